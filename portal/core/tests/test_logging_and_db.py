import json
import logging
import threading

import pytest
from django.db import connection, connections, transaction

from portal.accounts.models import PasswordResetRequest
from portal.lib.logging import JsonFormatter


def test_json_log_lines_carry_extra_fields():
    record = logging.makeLogRecord(
        {
            "name": "portal.security",
            "levelname": "WARNING",
            "msg": "login failed",
            "email": "a@example.com",
        }
    )
    event = json.loads(JsonFormatter().format(record))
    assert event["logger"] == "portal.security"
    assert event["message"] == "login failed"
    assert event["email"] == "a@example.com"
    assert event["time"].endswith("+00:00")


pytestmark_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite-specific: the embedded default's locking"
)


@pytestmark_sqlite
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytestmark_sqlite
@pytest.mark.django_db(transaction=True)
def test_concurrent_sqlite_writers_do_not_fail_with_database_is_locked():
    errors = []

    def writer(n: int) -> None:
        try:
            for _ in range(25):
                with transaction.atomic():
                    # Read then write inside one transaction: the pattern that deadlocks
                    # into "database is locked" with SQLite's default deferred transactions.
                    PasswordResetRequest.objects.filter(email=f"w{n}@example.com").count()
                    PasswordResetRequest.objects.create(email=f"w{n}@example.com", ip_address=None)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PasswordResetRequest.objects.count() == 100
