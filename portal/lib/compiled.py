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

The rows are the database driver's values, without the ORM's converters: select only
integers and text, which read the same from every backend (a boolean is 0/1 from SQLite,
a date a string: convert those yourself, or use the ORM).
"""

from collections.abc import Callable, Sequence

from django.db import connections
from django.db.models import QuerySet

# Stand-ins no real value equals: integers below any id, text with NUL bytes (which
# PostgreSQL text cannot hold). Two sets, so a parameter that changes between two builds
# and is none of the values (a time, say) is seen. An integer column narrower than a
# 32-bit one (a small or positive integer) cannot take them: use the ORM there.
_INT_BASE = -2_000_000_000

Statement = tuple[str, tuple, tuple[tuple[int, int], ...], object]
_statements: dict[tuple, Statement] = {}


def _stand_in(n: int, value: object, variant: int) -> object:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"Only integers and text can be filled in, not {value!r}.")
    if isinstance(value, int):
        return _INT_BASE - 1000 * variant - n
    return f"\x00value {variant}.{n}\x00"


def _compiled(build: Callable[..., QuerySet], values: Sequence, variant: int, using: str):
    stand_ins = [_stand_in(n, value, variant) for n, value in enumerate(values)]
    sql, params = build(*stand_ins).query.get_compiler(using).as_sql()
    return stand_ins, sql, tuple(params)


def _statement(name: str, build: Callable[..., QuerySet], values: Sequence, using: str):
    """The SQL of `build(*values)` with its values as parameters, its other parameters,
    and where each value goes: built twice with different stand-ins, so the SQL may
    depend on nothing but the values' places (an error otherwise, at the first call)."""
    shape = tuple(type(value) for value in values)
    key = (name, shape, using, connections[using].vendor)
    found = _statements.get(key)
    if found is not None:
        if found[3] is not build.__code__:
            raise AssertionError(f"{name}: the name of another compiled statement")
        return found
    first, sql, params = _compiled(build, values, 0, using)
    second, sql_again, params_again = _compiled(build, values, 1, using)
    if sql_again != sql or len(params_again) != len(params):
        raise AssertionError(f"{name}: its SQL changes with its values' stand-ins: {sql}")
    places = []
    for position, (one, other) in enumerate(zip(params, params_again, strict=True)):
        if type(one) is type(other) and one == other:
            continue
        place = [
            n
            for n in range(len(values))
            if type(one) is type(first[n]) and one == first[n] and other == second[n]
        ]
        if not place:
            raise AssertionError(
                f"{name}: parameter {position} ({one!r}) is none of its values yet changes"
                " between builds (a time? a value the ORM rewrote?)"
            )
        places.append((position, place[0]))
    missing = set(range(len(values))) - {n for _, n in places}
    if missing:
        raise AssertionError(f"{name}: values {sorted(missing)} are not parameters of {sql}")
    found = _statements[key] = (sql, params, tuple(places), build.__code__)
    return found


def rows(
    name: str, build: Callable[..., QuerySet], values: Sequence, *, using: str = "default"
) -> list[tuple]:
    """The rows of `build(*values)` (a `values_list` queryset), read with its statement
    compiled once per process and `name` (name each query uniquely), `using` and the
    types of `values`.

    Every value must reach the SQL as a parameter of its own (a filter's operand, an
    element of an `IN` list), unchanged: a value the ORM rewrites on the way (`__contains`
    adds `%`) is refused when the statement is first built."""
    sql, params, places, _ = _statement(name, build, values, using)
    filled = list(params)
    for position, n in places:
        filled[position] = values[n]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, filled)
        return cursor.fetchall()
