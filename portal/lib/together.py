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

Writes can go together too: inside `writes_at_end()` (itself inside `transaction.atomic`),
a `write(..., later=True)` waits, and the block's waiting writes go as one message when it
ends, before the transaction commits. Only a write that nobody reads back before the block
ends may wait (a ticket's history, the rollup's counts, the notice of who is told: raising
a ticket sends those three together); outside such a block `write` runs at once.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

type Statement = tuple[str, Sequence[Any]]
type Then = Callable[[list[tuple]], None] | None

# The open `writes_at_end` block's database and its waiting writes (each with what to do
# with its rows); None outside one. Per thread and task, as a request's own.
_waiting: ContextVar[tuple[str, list[tuple[str, Sequence[Any], Then]]] | None] = ContextVar(
    "portal_writes_at_end", default=None
)


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


@contextmanager
def writes_at_end(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The block's `write(..., later=True)`s on `using` wait and go as one message when it
    ends without an error (none when it raises: its transaction is rolled back anyway).
    Inside `transaction.atomic`, so they commit or roll back with the rest of the change."""
    if not connections[using].in_atomic_block:
        raise AssertionError("writes_at_end: open a transaction first (transaction.atomic)")
    waiting: list[tuple[str, Sequence[Any], Then]] = []
    token = _waiting.set((using, waiting))
    try:
        yield
    finally:
        _waiting.reset(token)
    if waiting:
        found = run([(sql, params) for sql, params, _ in waiting], using=using)
        for (_, _, then), rows in zip(waiting, found, strict=True):
            if then is not None:
                then(rows)


def write(
    sql: str,
    params: Sequence[Any],
    *,
    then: Then = None,
    later: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Run one statement and give its rows to `then`; with `later`, inside a
    `writes_at_end` block on `using`, when that block ends instead."""
    open_block = _waiting.get()
    if later and open_block is not None and open_block[0] == using:
        open_block[1].append((sql, params, then))
        return
    [rows] = run([(sql, params)], using=using)
    if then is not None:
        then(rows)
