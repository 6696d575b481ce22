"""Autovacuum visits the tickets table after every thousand new tickets, and after 1 % of
them changed (PostgreSQL only).

Routing counts each team member's open tickets, and the lists and dashboards read open
tickets, through partial indexes of open tickets alone (index-only scans). Such a scan
reads a ticket's row as well unless autovacuum has marked its page all-visible since it
was last written, and open tickets are the newest and most often changed ones. With
PostgreSQL's defaults autovacuum waits for 20 % of the table to be new (20,000 tickets at
100,000; 200,000 at a million, months of a large organisation's tickets) or changed. A
burst of 11,900 creates into one team at 100,000 tickets, autovacuum on, left 11,946 rows
for its routing count to read, and the SQL of a create went from 5.1 to 12.7 ms; with
these settings autovacuum ran four times, 105 rows were left, and the SQL stayed at
4.6-7.5 ms (docs/benchmarks.md, "Autovacuum that waited for a fifth of the table").

What a vacuum costs then: it skips the table's pages already all-visible, and its index
passes run only when there are dead rows to remove; but each vacuum reads the whole
search index (GIN `ticket_document_gin`, its clean-up pass) — measured in the same
section. The threshold is set here rather than left to the server's default.
"""

from django.db import migrations

FORWARDS = (
    "ALTER TABLE tickets_ticket SET"
    " (autovacuum_vacuum_insert_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0,"
    " autovacuum_vacuum_scale_factor = 0.01)"
)
BACKWARDS = (
    "ALTER TABLE tickets_ticket"
    " RESET (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor,"
    " autovacuum_vacuum_scale_factor)"
)


def _run(statement):
    # Self-contained, as migrations should be (tickets 0022 and 0023 do the same).
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0023_comment_scans_not_parallel")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False)]
