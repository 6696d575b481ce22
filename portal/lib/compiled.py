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

# Stand-ins no real value equals: an integer below any id, text with NUL bytes (which
# PostgreSQL text cannot hold).
_INT_BASE = -2_000_000_000

Statement = tuple[str, tuple, tuple[tuple[int, int], ...]]
_statements: dict[tuple, Statement] = {}


def _stand_in(n: int, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"Only integers and text can be filled in, not {value!r}.")
    return _INT_BASE - n if isinstance(value, int) else f"\x00value {n}\x00"


def _statement(name: str, build: Callable[..., QuerySet], values: Sequence, using: str):
    """The SQL of `build(*stand_ins)`, its parameters, and where each value goes."""
    shape = tuple(type(value) for value in values)
    key = (name, shape, using, connections[using].vendor)
    found = _statements.get(key)
    if found is None:
        stand_ins = [_stand_in(n, value) for n, value in enumerate(values)]
        queryset = build(*stand_ins)
        sql, params = queryset.query.get_compiler(using).as_sql()
        places = tuple(
            (position, n)
            for position, param in enumerate(params)
            for n, stand_in in enumerate(stand_ins)
            if type(param) is type(stand_in) and param == stand_in
        )
        missing = set(range(len(values))) - {n for _, n in places}
        if missing:
            raise AssertionError(f"{name}: values {sorted(missing)} are not parameters of {sql}")
        found = _statements[key] = (sql, tuple(params), places)
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
    sql, params, places = _statement(name, build, values, using)
    filled = list(params)
    for position, n in places:
        filled[position] = values[n]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, filled)
        return cursor.fetchall()
