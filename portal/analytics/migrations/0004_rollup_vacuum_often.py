"""Autovacuum visits the rollup after 1 % of its rows changed (PostgreSQL only).

Every ticket change updates the same few rows (the open counts of its team, today's
created count), and each update leaves a dead row version that the upsert's lookups step
over until a vacuum removes it. With PostgreSQL's default of 20 % of the table (44,700 of
its 223,000 rows at 100,000 tickets) a burst of 11,900 creates left 47,400 of them behind,
the threshold crossed within the last minute and not yet vacuumed; with 1 % autovacuum came
four times and left 52 (docs/benchmarks.md, "Autovacuum that
waited for a fifth of the table").
"""

from django.db import migrations

FORWARDS = "ALTER TABLE analytics_ticketcount SET (autovacuum_vacuum_scale_factor = 0.01)"
BACKWARDS = "ALTER TABLE analytics_ticketcount RESET (autovacuum_vacuum_scale_factor)"


def _run(statement):
    # Self-contained, as migrations should be (tickets 0022 and 0023 do the same).
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_open_per_team")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False)]
