"""Django's database sessions (SESSION_ENGINE), read with one statement written once.

Every signed-in request reads its session row. Django's store asks the ORM for it
(`Session.objects.get(session_key=…, expire_date__gt=now)`), which builds and compiles the
query each time: about 440 µs of CPU against 90 µs for the same statement run directly
(docs/benchmarks.md, issue 26), on every page. This store runs that statement: the same
table, columns, condition (an expired row is no session) and database the ORM would use,
its time adapted by the backend as the ORM adapts it. Everything else (creating, saving,
rotating, deleting, clearing expired rows) is Django's.
"""

from typing import cast

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        # Names of Django's session table, quoted; the values are parameters.
        table, data = quote(model._meta.db_table), quote("session_data")
        key, expiry = quote("session_key"), quote("expire_date")
        sql = f"SELECT {data} FROM {table} WHERE {key} = %s AND {expiry} > %s"  # noqa: S608
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:  # no such session, or expired: as Django's store, no key
            self._session_key = None
            return None
        return model(session_key=cast(str, self.session_key), session_data=row[0])
