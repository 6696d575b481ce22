"""Several statements in one round trip to the database.

A statement costs a request more than PostgreSQL's work on it: the round trip, waking the
server's process, and the Python of the driver and of Django's cursor around it. An extra
small read on the ticket page cost 0.6–0.7 ms of wall time, 0.3–0.4 ms of it CPU in the
application (docs/benchmarks.md, "What a statement costs"). Where a request knows several
statements before it needs any of their answers, `run` sends them as one message.

On PostgreSQL that is the simple query protocol: the statements joined with `;`, their
values written into the SQL by psycopg's client-side binding (Django's own default on
PostgreSQL; the values are quoted by libpq, never formatted by hand), and each statement's
rows read in turn. Two things differ from one `execute` per statement:

- the statements are not prepared: PostgreSQL parses them again each time (a few hundredths
  of a millisecond each; their plans were made for each run's values anyway, settings.py);
- the message runs as one transaction when none is open (one implicit transaction), so a
  statement that fails undoes the ones before it; inside `transaction.atomic` it is part of
  that transaction, like any statement.

Elsewhere (SQLite) the statements run one by one, with the same answers; outside a
transaction each one that writes commits on its own there, so statements that must stand
or fall together run inside `transaction.atomic` on every backend.

Each message passes Django's cursor wrapper once: query logging and `execute_wrapper`s see
one entry holding every statement, so the tests' pinned query counts count round trips.
"""

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

type Statement = tuple[str, Sequence[Any]]


def in_one_round_trip(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `run` sends its statements together on `using` (PostgreSQL), for what
    counts round trips (the tests' pinned query counts)."""
    return connections[using].vendor == "postgresql"


def run(statements: Sequence[Statement], *, using: str = DEFAULT_DB_ALIAS) -> list[list[tuple]]:
    """The rows of each of `statements` (SQL with `%s` places, values), in their order;
    `[]` for a statement that returns none. One round trip on PostgreSQL."""
    connection = connections[using]
    if not in_one_round_trip(using) or len(statements) < 2:
        with connection.cursor() as cursor:
            return [_rows(cursor, sql, params) for sql, params in statements]
    with _client_cursor(connection) as cursor:
        sql = ";\n".join(sql for sql, _ in statements)
        cursor.execute(sql, [value for _, params in statements for value in params])
        found = [_fetched(cursor)]
        while cursor.nextset():
            found.append(_fetched(cursor))
    if len(found) != len(statements):
        raise AssertionError(f"{len(statements)} statements gave {len(found)} results: {sql}")
    return found


def _rows(cursor: Any, sql: str, params: Sequence[Any]) -> list[tuple]:
    cursor.execute(sql, params)
    return _fetched(cursor)


def _fetched(cursor: Any) -> list[tuple]:
    return cursor.fetchall() if cursor.description is not None else []


def _client_cursor(connection: Any) -> Any:
    """Django's cursor wrapper (health check, logging, execute wrappers) around a cursor
    that binds values on the client: the connection's own cursors may bind them on the
    server (settings.py), which takes one statement per message."""
    from psycopg import ClientCursor

    connection.validate_thread_sharing()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = ClientCursor(connection.connection)
    with connection.wrap_database_errors:
        if connection.queries_logged:
            return connection.make_debug_cursor(raw)
        return connection.make_cursor(raw)
