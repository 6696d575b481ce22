"""The signed-in user, read in the session's own statement and handed to the backend.

Every signed-in request read its session row and then, in a second round trip, its user
(`auth.get_user` → the backend's `get_user(user_id)`): a statement and a round trip more on
every signed-in request (docs/benchmarks.md, issue 26). The session store
(`session_store.py`) joins the user to the session row through `UserSession` (written at
sign-in), so one statement reads both.

Django's `auth.get_user` still decides everything: which backend, the session hash (with
`SECRET_KEY_FALLBACKS`), flushing a session that fails. Only the backends' `get_user`
changes (`backends.py`, `sso/backend.py`): it takes the row read with this request's
session when it is the account asked for, and reads the account as before otherwise.

The row is handed over in a context variable (one per thread, and per task under ASGI):
each session read from the database sets it, to its row or to nothing, so a previous
request's row is never left for another session; `take` consumes it once; and the end of
every request clears it, so nothing read for a request outlives it.

Only the synchronous path (WSGI, what the portal serves with) reads the user with the
session: Django's async twins (`_aget_session_from_db`, `aget_user`, `acycle_key`) are
Django's own, read the user in a second statement and never take a row.
"""

from contextvars import ContextVar
from typing import cast

from django.db import connections
from django.db.models import Field

from portal.accounts.models import User, UserSession
from portal.lib import inserts, plans

# The user's columns, in the order the statement reads them, and where its primary key is
# among them (NULL: no account linked).
_NAMES = [field.attname for field in User._meta.concrete_fields]
_PK = _NAMES.index(User._meta.pk.attname)

# (database alias, the user's columns converted as the ORM converts them) or nothing.
_row: ContextVar[tuple[str, list] | None] = ContextVar("session_user_row", default=None)

# Per alias and backend: the SELECT and, for each of the user's columns, its column
# expression and the converters the ORM's compiler applies to it; derived from the
# models and the connection alone, so no process can hold a stale one.
_statements: dict[tuple[str, str, str], tuple[str, inserts.Returned]] = {}


def _statement(session_model, alias: str):
    connection = connections[alias]
    key = (session_model._meta.label, alias, connection.vendor)
    found = _statements.get(key)
    if found is not None:
        return found
    quote = connection.ops.quote_name
    # Names from the models, quoted; the values are parameters.
    sessions, links, users = (
        quote(model._meta.db_table) for model in (session_model, UserSession, User)
    )
    fields = tuple(User._meta.concrete_fields)
    readers = inserts.column_readers(fields, connection)

    def column(model, name: str) -> str:
        return quote(cast(str, cast(Field, model._meta.get_field(name)).column))

    data, key_column, expiry = (
        column(session_model, name) for name in ("session_data", "session_key", "expire_date")
    )
    link_key, link_user = column(UserSession, "session_key"), column(UserSession, "user")
    user_pk = column(User, User._meta.pk.name)
    columns = ", ".join(f"u.{column(User, field.name)}" for field in fields)
    # LEFT JOINs: a session with no `UserSession` row (anonymous, or older than the row)
    # is read all the same, its user columns NULL.
    sql = (
        f"SELECT s.{data}, {columns} FROM {sessions} s"  # noqa: S608
        f" LEFT JOIN {links} us ON us.{link_key} = s.{key_column}"
        f" LEFT JOIN {users} u ON u.{user_pk} = us.{link_user}"
        f" WHERE s.{key_column} = %s AND s.{expiry} > %s"
    )
    found = _statements[key] = (sql, tuple(readers))
    return found


def read(session_model, alias: str, session_key: str, now) -> str | None:
    """The live session's data (None: no such session, or expired); its user's row, if
    one is linked to it, kept for `take`, and nothing kept otherwise."""
    # Dropped first: a read that fails leaves nothing of an earlier one behind either.
    forget()
    sql, readers = _statement(session_model, alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        # Read by its key: one plan serves every session (lib/plans.py).
        plans.execute(connection, cursor, sql, [session_key, now])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[1 + _PK] is None:  # no account linked to this session: the backend reads it
        return row[0]
    values = []
    for (_, column, converters), value in zip(readers, row[1:], strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    _row.set((alias, values))
    return row[0]


def forget() -> None:
    """Drop the row (before each session read, and at the end of every request:
    `signals.py`)."""
    if _row.get() is not None:
        _row.set(None)


def take(user_id) -> User | None:
    """The account read with this request's session if its id is `user_id`, made as the
    ORM makes it (`Model.from_db`); else None (the backend reads it). Consumed once."""
    kept = _row.get()
    if kept is None:
        return None
    _row.set(None)
    alias, values = kept
    if values[_PK] != user_id:
        return None  # not the account this session names: never another's row
    return User.from_db(alias, _NAMES, values)
