"""Autovacuum keeps up with the rollup, whose few open-count rows every ticket change
updates (PostgreSQL only; migration 0004)."""

import pytest
from django.db import connection

from portal.testing.tables import table_options

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's autovacuum"),
]


def test_autovacuum_comes_after_one_percent_of_the_rollup_changed():
    assert table_options("analytics_ticketcount")["autovacuum_vacuum_scale_factor"] == "0.01"
