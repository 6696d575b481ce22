"""Scans of the comments table run in the request's own process too (PostgreSQL only).

Migration 0022 kept parallel workers off the tickets table; the search's comment branch
could still read the comments' GIN index first and scan the matching comments with a
Parallel Bitmap Heap Scan. Its cost, divided among workers, made that plan look cheaper
than walking the list when two words that always come together were estimated as rare
(3,178 comments estimated, 101,246 found): the agent's two-word search took 949 ms at 1M
tickets, against 19 ms walking the list in one process (docs/benchmarks.md, "The ticket
page's first visit, its planning, and what a round trip costs"). A storage parameter, so
it holds behind pgbouncer and on a replica too.
"""

from django.db import migrations


def _on_postgresql(statement):
    # Self-contained, as migrations should be (0022 does the same for the tickets table).
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0022_ticket_scans_not_parallel")]

    operations = [
        migrations.RunPython(
            _on_postgresql("ALTER TABLE tickets_comment SET (parallel_workers = 0)"),
            _on_postgresql("ALTER TABLE tickets_comment RESET (parallel_workers)"),
            elidable=False,
        )
    ]
