"""An account by its id, read with one statement written once per process.

Every signed-in request reads its user (`ModelBackend.get_user`: `User.objects.get(pk=…)`),
and the ORM built and compiled that query each time: 360–390 µs of CPU, about a quarter of
what a page costs before its own work (docs/benchmarks.md, issue 26). The statement, its
columns and their converters are the ORM's own, asked for once per model class and
database alias with a stand-in id; each read runs it with the real id and makes the
instance as the ORM's iterator does (`Model.from_db` with the backend's converters), so the
account is the one `QuerySet.get` returns. Nothing is kept but the statement: every read
goes to the database.
"""

from django.db import connections, router
from django.db.models import Model

# (model, alias, vendor) -> (sql, column names, converters by position). The model class
# is in the key: a migration's historical model has its own columns.
_statements: dict[tuple[type[Model], str, str], tuple[str, list[str], dict]] = {}
_STAND_IN = -2_000_000_001  # no id; told apart from any other parameter of the statement


def _statement(model: type[Model], using: str):
    key = (model, using, connections[using].vendor)
    found = _statements.get(key)
    if found is None:
        compiler = model._default_manager.filter(pk=_STAND_IN).query.get_compiler(using)
        sql, params = compiler.as_sql()
        if tuple(params) != (_STAND_IN,):
            raise AssertionError(f"unexpected parameters for an account by id: {params}")
        columns = [expression for expression, _sql, _alias in compiler.select]
        found = _statements[key] = (
            sql,
            [column.target.attname for column in columns],
            compiler.get_converters(columns),
        )
    return found


def get_by_id(model: type[Model], pk: int, using: str | None = None):
    """`model._default_manager.get(pk=pk)`; raises `model.DoesNotExist` as it does."""
    using = using or router.db_for_read(model)
    sql, names, converters = _statement(model, using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        missing = f"{model._meta.object_name} matching query does not exist."
        raise model.DoesNotExist(missing)  # type: ignore[attr-defined]
    values = list(row)
    for position, (functions, expression) in converters.items():
        for convert in functions:
            values[position] = convert(values[position], expression, connection)
    return model.from_db(using, names, values)
