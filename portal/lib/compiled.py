"""Small ORM reads compiled once per process, run with each call's values.

Building a queryset and compiling it to SQL costs more Python than a small indexed read
costs the database: a write that reads a few rows by id (a team's candidates, a ticket's
watchers, a few people's email preferences) spent more time in the ORM's compiler than
in PostgreSQL. `rows` asks the ORM for the statement once, with stand-in values, and
afterwards runs that SQL with the real values in their places.

The statement is derived from the code and the connection alone (the query's shape, the
models' tables, the backend), so every process computes the same one and none can be
stale (CONTRIBUTING.md, "State in process memory"); a different number of values (an
`IN` list of another length) is another statement.

Building may read nothing but its arguments and code: a statement it read data for (a
row, a cached value, today's date) would keep that data for the life of the process. A
build that runs a statement is refused; one that reads the clock is seen by the second
build (below); the cache and settings are the author's to keep out.

The rows are what the ORM's `values_list` returns: the backend's and the fields' converters
(a boolean from SQLite's 0/1, a time from its text, a JSON field's value), taken from the
compiler with the statement, run on each row.
"""

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from contextlib import ExitStack
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from portal.lib import plans

# Stand-ins no real value equals: integers just below 2**31 (positive, so an unsigned
# column takes them; within 32 bits, so an integer column does), text with NUL bytes
# (which PostgreSQL text cannot hold). Two sets, so a parameter that changes between two
# builds and is none of the values (a time, say) is seen. A column narrower than 32 bits
# (a small integer) cannot take them: the ORM drops or empties a condition whose value is
# out of its range, which `rows` refuses as a value the SQL does not read; use the ORM.
_INT_BASE = 2_000_000_000

# Each column's converters and the expression they are given (`SQLCompiler.get_converters`).
Converters = dict[int, tuple[list[Callable[..., Any]], Any]]
Statement = tuple[str, tuple, tuple[tuple[int, int, Any], ...], object, Converters]


class _Kept(OrderedDict[tuple, Statement]):
    """Statements by key, at most `limit`; past it the least recently used one goes (and
    is compiled again on its next use)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def find(self, key: tuple) -> Statement | None:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: tuple, statement: Statement) -> None:
        self[key] = statement
        while len(self) > self.limit:
            self.popitem(last=False)


# The statements of the code's own reads: their number is the code's.
_statements = _Kept(limit=1000)
# The statements of a request's shape (the ticket list's filters, tickets/list_page.py): a
# query string can ask for a new one, so memory must not grow with what people ask, and
# a stream of new shapes must not push the code's own statements out.
_shapes = _Kept(limit=2000)


def _stand_in(n: int, value: object, variant: int) -> object:
    if isinstance(value, dt.datetime):
        # An aware time of a year no ticket has, the value's place in its microseconds.
        return dt.datetime(1001 + variant, 1, 1, microsecond=n, tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.date(1001 + variant, 1, 1) + dt.timedelta(days=n)
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=(0x5E47 << 64) + (variant << 32) + n)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(
            f"Only integers, text, UUIDs, times and days can be filled in, not {value!r}."
        )
    if isinstance(value, int):
        return _INT_BASE - 1000 * variant - n
    return f"\x00value {variant}.{n}\x00"


def _adapted(value: object, connection: Any) -> object:
    """`value` as a parameter of the ORM's SQL: a time (a day) as the backend adapts a
    date-time (date) field's value (unchanged on PostgreSQL; text, in UTC, on SQLite), a
    UUID as a UUID field's (its hex where the backend has no UUID type), anything else as
    it is."""
    if isinstance(value, uuid.UUID) and not connection.features.has_native_uuid_field:
        return value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _no_statements(execute, sql, params, many, context):
    raise AssertionError(f"Building a compiled statement ran one: {sql}")


def _compiled(build: Callable[..., QuerySet], values: Sequence, variant: int, using: str):
    stand_ins = [_stand_in(n, value, variant) for n, value in enumerate(values)]
    with ExitStack() as reading_nothing:
        for connection in connections.all():
            reading_nothing.enter_context(connection.execute_wrapper(_no_statements))
        compiler = build(*stand_ins).query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            raise AssertionError(
                "The ORM found the statement can match nothing: a stand-in out of a"
                " column's range (a small integer)? An empty IN list?"
            ) from None
    columns = compiler.select[: compiler.col_count]
    converters = compiler.get_converters([column for column, *_ in columns])
    return stand_ins, sql, tuple(params), converters


def _same_type(param: object, value: object) -> bool:
    """`param` is `value` as a parameter: of its type, or an integer the backend typed
    (psycopg's Int2/Int4/Int8, subclasses of int, for integer columns on PostgreSQL)."""
    return type(param) is type(value) or (type(value) is int and isinstance(param, int))


def _statement(
    name: str,
    build: Callable[..., QuerySet],
    values: Sequence,
    using: str,
    may_be_unused: Collection[int],
    kept: _Kept,
):
    """The SQL of `build(*values)` with its values as parameters, its other parameters,
    and where each value goes: built twice with different stand-ins, so the SQL may
    depend on nothing but the values' places (an error otherwise, at the first call)."""
    shape = tuple(type(value) for value in values)
    key = (name, shape, using, connections[using].vendor)
    found = kept.find(key)
    if found is not None:
        if found[3] is not build.__code__:
            raise AssertionError(f"{name}: the name of another compiled statement")
        return found
    first, sql, params, converters = _compiled(build, values, 0, using)
    second, sql_again, params_again, _ = _compiled(build, values, 1, using)
    first = [_adapted(value, connections[using]) for value in first]
    second = [_adapted(value, connections[using]) for value in second]
    if sql_again != sql or len(params_again) != len(params):
        raise AssertionError(f"{name}: its SQL changes with its values' stand-ins: {sql}")
    places = []
    for position, (one, other) in enumerate(zip(params, params_again, strict=True)):
        if type(one) is type(other) and one == other:
            continue
        place = [
            n
            for n in range(len(values))
            if _same_type(one, first[n]) and one == first[n] and other == second[n]
        ]
        if not place:
            raise AssertionError(
                f"{name}: parameter {position} ({one!r}) is none of its values yet changes"
                " between builds (a time? a value the ORM rewrote?)"
            )
        # An integer the backend typed (PostgreSQL: Int8 for a big integer column) is
        # filled in typed the same way.
        wrap = type(one) if type(one) is not type(first[place[0]]) else None
        places.append((position, place[0], wrap))
    missing = set(range(len(values))) - {n for _, n, _ in places} - set(may_be_unused)
    if missing:
        raise AssertionError(f"{name}: values {sorted(missing)} are not parameters of {sql}")
    found = (sql, params, tuple(places), build.__code__, converters)
    kept.keep(key, found)
    return found


def rows(
    name: str,
    build: Callable[..., QuerySet],
    values: Sequence,
    *,
    using: str = "default",
    may_be_unused: Collection[int] = (),
    shaped: bool = False,
    one_plan: bool = False,
) -> list[tuple]:
    """The rows of `build(*values)` (a `values_list` queryset), read with its statement
    compiled once per process and `name` (name each query uniquely), `using` and the
    types of `values` (integers, text, aware times, days).

    Every value must reach the SQL as a parameter of its own (a filter's operand, an
    element of an `IN` list), unchanged: a value the ORM rewrites on the way (`__contains`
    adds `%`) is refused when the statement is first built. A value the SQL does not use
    is refused too (a filter the ORM dropped), but for the places in `may_be_unused`: a
    statement built from a whole set of inputs, some of which only some shapes read (the
    person's ids where the access layer's rule for their roles reads none).

    `shaped`: the statement is one of a request's shapes (tickets/list_page.py), kept
    apart from the code's own, in a bounded memo of its own.

    `one_plan`: the best plan does not depend on the values (a read by a key): PostgreSQL
    plans the prepared statement once per connection (`portal.lib.plans`)."""
    kept = _shapes if shaped else _statements
    sql, params, places, _, converters = _statement(name, build, values, using, may_be_unused, kept)
    connection = connections[using]
    filled = list(params)
    for position, n, wrap in places:
        value = _adapted(values[n], connection)
        filled[position] = value if wrap is None else wrap(value)
    with connection.cursor() as cursor:
        if one_plan:
            plans.execute(connection, cursor, sql, filled)
        else:
            cursor.execute(sql, filled)
        found = cursor.fetchall()
    if not converters:
        return found
    return [_converted(row, converters, connection) for row in found]


def _converted(row: tuple, converters: Converters, connection: Any) -> tuple:
    """`row` as `SQLCompiler.apply_converters` makes it."""
    values = list(row)
    for position, (functions, expression) in converters.items():
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    return tuple(values)
