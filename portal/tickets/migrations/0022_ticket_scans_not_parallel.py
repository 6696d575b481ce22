"""Scans of the tickets table run in the request's own process (PostgreSQL only).

The tickets are read by short request-path statements that stop after a page. Where the
planner misjudges how far such a walk goes (the two-word search's comment branch: words
that occur together are estimated as if independent), it planned a Gather Merge with two
parallel workers: 14 ms against 5 ms in one process at 1M tickets, and three processes busy
on a two-core server (docs/benchmarks.md, "Notifications, dashboards, API list and two-word
search"). Bulk reads (the rollup's rebuild, exports) run seldom and stay correct, if slower.
"""

from django.db import migrations

FORWARDS = "ALTER TABLE tickets_ticket SET (parallel_workers = 0)"
BACKWARDS = "ALTER TABLE tickets_ticket RESET (parallel_workers)"


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0021_open_by_id")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False)]
