"""Small INSERTs written once per process, run with each call's rows.

`bulk_create` builds an insert query and compiles it on every call: for the two to five
rows a write adds (a ticket's history events, an event's notifications and outbox rows)
that Python cost about three times what sending the statement does. `insert` writes the
statement once per model, number of rows, conflict handling and connection, and fills in
each call's values the way the ORM's compiler does (`Field.pre_save`, then
`get_db_prep_save`), so the row stored is the one `bulk_create` would store.

The statement is derived from the code and the connection alone (the model's table and
columns, the backend), so every process computes the same one and none can be stale
(CONTRIBUTING.md, "State in process memory").

Like `bulk_create`: no signals are sent, and what the database makes (a primary key it
assigns, generated columns) is read back and set on each object, converted as the ORM
converts it (except with `ignore_conflicts`, where a skipped row has none).

`insert_unless_held` writes one row unless a row already holds its values of some fields
(a form's idempotency key), in the same statement: `INSERT … SELECT … WHERE NOT EXISTS`.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Field, Model
from django.db.models.constants import OnConflict
from django.db.models.expressions import BaseExpression

# What the database makes for a row, read back: each field, its column and converters.
Returned = tuple[tuple[Field, Any, list], ...]
# (model, rows, ignore_conflicts, unless, alias, vendor)
#   -> (SQL, fields written, fields read back)
_statements: dict[tuple, tuple[str, tuple[Field, ...], Returned]] = {}


def _statement(
    model: type[Model], rows: int, ignore_conflicts: bool, using: str, unless: tuple[str, ...] = ()
):
    connection = connections[using]
    key = (model, rows, ignore_conflicts, unless, using, connection.vendor)
    found = _statements.get(key)
    if found is not None:
        return found
    opts = model._meta
    # A primary key the database assigns (an auto field) and generated columns are left
    # out and read back; a key the model makes (a UUID's default) is written like any
    # other column. A row skipped on conflict returns nothing, so nothing is read back.
    returning = () if ignore_conflicts else tuple(opts.db_returning_fields)
    fields = tuple(
        field
        for field in opts.concrete_fields
        # A generated column is the database's to write (bulk_create leaves it out too).
        if not (field.primary_key and field.db_returning) and not field.generated
    )
    for field in fields:
        if getattr(field, "get_placeholder_sql", None) is not None or field.has_db_default():
            raise TypeError(f"{opts.label}.{field.name} needs the ORM's insert: use bulk_create.")
    ops = connection.ops
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = [ops.quote_name(field.column) for field in fields if field.column]
    parts = [
        ops.insert_statement(on_conflict=on_conflict),
        ops.quote_name(opts.db_table),
        "(" + ", ".join(columns) + ")",
    ]
    if unless:
        # One row, written only when no row holds its values of `unless` (parameters after
        # the row's). PostgreSQL gives the SELECT's values their columns' types as VALUES
        # would, and takes the next id only for a row it writes.
        held = [ops.quote_name(_held(model, name).column or "") + " = %s" for name in unless]
        table = ops.quote_name(opts.db_table)
        parts += [
            "SELECT " + ", ".join(["%s"] * len(fields)),
            # Names from the model, quoted; values only as parameters.
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(held)})",  # noqa: S608
        ]
    else:
        parts += ["VALUES", ", ".join([row] * rows)]
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    if suffix:
        parts.append(suffix)
    if returning:
        parts.append("RETURNING " + ", ".join(ops.quote_name(f.column or "") for f in returning))
    found = _statements[key] = (" ".join(parts), fields, column_readers(returning, connection))
    return found


def _held(model: type[Model], name: str) -> Field:
    """The field `name` of `model`, as `insert_unless_held` compares it (a column)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model._meta.label}.{name} is not a column")
    return field


def column_readers(fields: Sequence[Field], connection) -> Returned:
    """Each field with its column and the converters the ORM's compiler applies to it
    (`SQLCompiler.get_converters`): SQLite's text times become datetimes, and so on. For
    any hand-written read of a model's columns (also accounts/session_user.py)."""
    readers = []
    for field in fields:
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        readers.append((field, column, converters))
    return tuple(readers)


def insert(
    objs: Sequence[Model], *, ignore_conflicts: bool = False, using: str = "default"
) -> None:
    """Insert `objs` (unsaved instances of one model) in one statement, as
    `Model.objects.bulk_create(objs, ignore_conflicts=...)` would, without the ORM's
    per-call compilation. Large batches (beyond the backend's parameter limit) go to
    `bulk_create`, which splits them."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    if connection.ops.bulk_batch_size(model._meta.concrete_fields, objs) < len(objs):
        model._default_manager.using(using).bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    sql, fields, returned = _statement(model, len(objs), ignore_conflicts, using)
    params: list = []
    for obj in objs:
        params += _values(obj, model, fields, connection)
    if not _run(objs, sql, params, returned, using, ignore_conflicts=ignore_conflicts):
        raise RuntimeError(f"insert: {model._meta.label} wrote fewer rows than it was given")


def insert_unless_held(obj: Model, *, unless: Sequence[str], using: str = "default") -> bool:
    """Insert `obj` as `insert([obj])` would, unless a row of its model already holds its
    values of the fields `unless`: True when it was written, False when such a row was
    found (then nothing was written, `obj` is left unsaved, and no id was taken: a row
    refused by a unique index or skipped by ON CONFLICT still takes the next value of its
    id's sequence on PostgreSQL). One statement either way. A row written at the same
    moment by another transaction is not seen: a unique index on `unless` is still what
    refuses the second of two sends at once (IntegrityError). A held field must have a
    value: SQL's NULL equals nothing, so None would never be found held (ValueError)."""
    model = type(obj)
    connection = connections[using]
    held = tuple(unless)  # part of the statement's key
    sql, fields, returned = _statement(model, 1, False, using, held)
    params = _values(obj, model, fields, connection)
    for name in held:
        field = _held(model, name)
        value = getattr(obj, field.attname)
        if value is None:
            raise ValueError(f"insert_unless_held: {model._meta.label}.{name} is None")
        params.append(field.get_db_prep_save(value, connection))
    return _run([obj], sql, params, returned, using)


def _values(obj: Model, model: type[Model], fields: tuple[Field, ...], connection) -> list:
    """`obj`'s values of `fields` as the ORM's compiler prepares them for an INSERT."""
    if type(obj) is not model:
        raise TypeError("insert: every object must be of one model")
    # As bulk_create: a related object saved after it was set gives its id now.
    # (Not in django-stubs: a documented-by-use internal of `bulk_create`.)
    obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    values = []
    for field in fields:
        value = field.pre_save(obj, True)
        if isinstance(value, BaseExpression):
            raise TypeError(f"{model._meta.label}.{field.name}: an expression needs the ORM")
        values.append(field.get_db_prep_save(value, connection))
    return values


def _run(
    objs: Sequence[Model],
    sql: str,
    params: list,
    returned: Returned,
    using: str,
    *,
    ignore_conflicts: bool = False,
) -> bool:
    """Run the INSERT and set what it read back on `objs`; False when it wrote no row."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if returned else None
        # (SQLite counts the rows of an INSERT … RETURNING once they are read.)
        written = len(rows) if rows is not None else cursor.rowcount
    if written < len(objs) and not ignore_conflicts:
        return False  # only insert_unless_held writes fewer: its row was held
    for n, obj in enumerate(objs):
        if rows is not None:
            for (field, column, converters), value in zip(returned, rows[n], strict=True):
                for convert in converters:
                    value = convert(value, column, connection)
                setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return True
