"""Rebuild the analytics rollup from the tickets (after bulk loads or direct SQL)."""

import time

from django.core.management.base import BaseCommand

from portal.analytics import rollup


class Command(BaseCommand):
    help = (
        "Recompute the analytics daily rollup (analytics_ticketcount) from all tickets and "
        "their history. Ticket services keep it exact; run this after loading or changing "
        "tickets without them (COPY, QuerySet.update, data migrations)."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = rollup.rebuild()
        self.stdout.write(
            f"Analytics rollup rebuilt: {rows:,} rows in {time.monotonic() - started:.1f} s."
        )
