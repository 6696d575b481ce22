"""Database expressions the ORM does not ship: durations in seconds and percentiles.

Percentiles are computed in the database on both backends, and agree exactly:
- PostgreSQL: the ordered-set aggregate `percentile_cont(p) WITHIN GROUP (ORDER BY v)`.
- SQLite has no percentile function, so `sqlite_percentiles` numbers the values with the
  window function `ROW_NUMBER() OVER (ORDER BY v)` and picks the two rows around position
  (n − 1)·p, interpolating linearly between them. That is exactly percentile_cont's
  definition, so tests can check one hand-computed value against both backends.
"""

from django.db import connection
from django.db.models import Aggregate, FloatField, Func


class Seconds(Func):
    """`end - start` in seconds, as a float (NULL when either is NULL)."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        # date_part, not EXTRACT: since PostgreSQL 14 EXTRACT computes in numeric, which
        # made the percentiles of an admin's 90 days at 1M tickets (92,000 durations)
        # take 62-80 ms against 36-56 ms. date_part works in float8, the type the
        # percentiles are in anyway; the two differ by at most 2.4e-10 s.
        return (
            f"date_part('epoch', {end} - {start})",
            (*end_params, *start_params),
        )

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        # julianday() reads Django's stored "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) text.
        return (
            f"((julianday({end}) - julianday({start})) * 86400.0)",
            (*end_params, *start_params),
        )


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between the two nearest)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, fraction: float, expression, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction is between 0 and 1.")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        # The fraction is a float we chose, never user input: safe to inline.
        extra_context["template"] = (
            f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
        )
        return super().as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        raise NotImplementedError("SQLite has no percentile_cont; use sqlite_percentiles().")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def sqlite_percentiles(base: str, params, columns: list[str], fractions) -> dict:
    """{(column, fraction): value or None}: continuous percentiles of columns of a subquery.

    `base` is a CTE definition naming its columns, `base (a, b, …) AS (SELECT …)`.
    One statement: the values of every column are stacked (`UNION ALL`), numbered per
    column by a window function, and the rows at floor/ceil of (n − 1)·p are picked.
    The last step (lo + (hi − lo)·fraction) is arithmetic on the two picked numbers.
    """
    stacked = " UNION ALL ".join(
        f"SELECT {index} AS m, {name} AS v FROM base WHERE {name} IS NOT NULL"  # noqa: S608 - names are constants of this module
        for index, name in enumerate(columns)
    )
    picks = []
    for fraction in fractions:
        pos = f"((n - 1) * {float(fraction)!r})"
        picks += [
            f"MAX(CASE WHEN i = CAST({pos} AS INTEGER) THEN v END)",
            f"MAX(CASE WHEN i = CAST({pos} AS INTEGER) + 1 THEN v END)",
            f"MAX({pos} - CAST({pos} AS INTEGER))",
        ]
    sql = (
        f"WITH {base}, stacked AS ({stacked}), "  # noqa: S608 - names are constants of this module
        "ranked AS (SELECT m, v, ROW_NUMBER() OVER (PARTITION BY m ORDER BY v) - 1 AS i, "
        "COUNT(*) OVER (PARTITION BY m) AS n FROM stacked) "
        f"SELECT m, {', '.join(picks)} FROM ranked GROUP BY m"  # noqa: S608 - names are constants of this module
    )
    result = {(name, fraction): None for name in columns for fraction in fractions}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            for k, fraction in enumerate(fractions):
                lo, hi, frac = row[1 + 3 * k : 4 + 3 * k]
                if lo is not None:
                    result[(columns[row[0]], fraction)] = (
                        lo if hi is None else lo + (hi - lo) * frac
                    )
    return result
