"""Autovacuum keeps up with the tickets table whatever its size (PostgreSQL only).

Open tickets are read through partial indexes alone only on pages autovacuum has marked
all-visible; with PostgreSQL's defaults it waited for a fifth of the table to be new or
changed, and a burst of creates into one team doubled their SQL (migration 0024,
docs/benchmarks.md "Autovacuum that waited for a fifth of the table")."""

import pytest
from django.db import connection

from portal.testing.tables import table_options

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's autovacuum"),
]


def test_autovacuum_comes_after_a_thousand_new_tickets_and_one_percent_changed():
    options = table_options("tickets_ticket")
    # No share of the table: 1,000 inserts, whatever its size.
    assert options["autovacuum_vacuum_insert_threshold"] == "1000"
    assert options["autovacuum_vacuum_insert_scale_factor"] == "0"
    assert options["autovacuum_vacuum_scale_factor"] == "0.01"
    assert options["parallel_workers"] == "0"  # migration 0022, kept beside them
