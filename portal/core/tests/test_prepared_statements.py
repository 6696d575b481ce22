"""Prepared statements: on for a direct PostgreSQL connection, off behind pgbouncer in
transaction pooling (docs/scaling.md; measured in docs/benchmarks.md)."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from portal.accounts.models import User
from portal.testing.database import ROOT

PG = "postgres://postgres@127.0.0.1:5432/portal"


def database_options(**env: str) -> dict:
    """OPTIONS of every database alias as a process started with `env` would have them
    (settings are read once per process)."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({a: d.get('OPTIONS', {}) for a, d in settings.DATABASES.items()}))"
    )
    prefixes = ("DB_", "DATABASE", "PYTEST", "DJANGO")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env={**base, "DEBUG": "1", **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


PREPARED = {
    "server_side_binding": True,
    "prepare_threshold": 5,
    "options": "-c plan_cache_mode=force_custom_plan",
}


@pytest.mark.parametrize(
    ("env", "prepared"),
    [
        ({"DATABASE_URL": PG, "DATABASE_REPLICA_URL": PG}, True),
        ({"DATABASE_URL": PG, "DATABASE_REPLICA_URL": PG, "DB_TRANSACTION_POOLING": "1"}, False),
        ({"DATABASE_URL": PG, "DB_TRANSACTION_POOLING": "1", "DB_PREPARED_STATEMENTS": "1"}, True),
        ({"DATABASE_URL": PG, "DB_PREPARED_STATEMENTS": ""}, True),
        ({"DATABASE_URL": PG, "DB_PREPARED_STATEMENTS": "0"}, False),
        ({"DATABASE_URL": ""}, False),
    ],
    ids=["direct-postgresql", "pgbouncer-transaction-pooling", "pgbouncer-that-tracks-them",
         "left-blank", "turned-off", "sqlite"],
)  # fmt: skip
def test_statements_are_prepared_on_a_direct_postgresql_connection_only(env, prepared):
    options = database_options(**env)
    for alias, alias_options in options.items():
        for key, value in PREPARED.items():
            assert (alias_options.get(key) == value) is prepared, (alias, alias_options)
    if "DATABASE_REPLICA_URL" in env:
        assert set(options) == {"default", "replica"}  # the replica alias is configured alike


@pytest.mark.django_db
def test_a_statement_run_again_on_a_connection_is_prepared_with_its_parameters_apart():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(6):  # prepared once run more than prepare_threshold (5) times
        assert not User.objects.filter(email="nobody.prepared@example.com").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"accounts_user"."email" = $%'],
        )
        prepared = [statement for (statement,) in cursor.fetchall()]
    # One statement with a placeholder: the address was sent apart, not quoted into the SQL.
    assert len(prepared) == 1, prepared
    assert "nobody.prepared" not in prepared[0]


@pytest.mark.django_db
def test_a_prepared_statement_is_planned_for_its_own_values_every_time():
    """A plan PostgreSQL keeps for any value (its own choice after five runs) read every
    open ticket for an agent's "my open requests" at 1M tickets (3 -> 50-75 ms), and the
    whole list for a rare word's search."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for n in range(12):
        assert not User.objects.filter(full_name=f"Nobody {n}").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%"accounts_user"."full_name" = $%'],
        )
        [(generic, custom)] = cursor.fetchall()
    # Prepared by the sixth run at the latest (this connection may have run the statement
    # for an earlier test), then planned for each run's value.
    assert generic == 0
    assert custom >= 12 - 5
