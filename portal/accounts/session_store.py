"""Django's database sessions (SESSION_ENGINE), read with the signed-in user in one statement.

Every signed-in request reads its session row, and Django's store asks the ORM for it
(`Session.objects.get(session_key=…, expire_date__gt=now)`), building and compiling the
query each time: about 440 µs of CPU against 90 µs for the statement run directly
(docs/benchmarks.md, issue 26). This store runs that statement (the same table, condition
(an expired row is no session) and database the ORM would use), and joins the session's
user to it (`session_user.py`), which the backend then takes instead of reading it again.
Everything else (creating, saving, rotating, deleting, clearing expired rows) is Django's.
"""

from typing import cast

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from portal.accounts import session_user
from portal.accounts.sessions import session_key_cycled

# Sessions signed in before the password backend became the portal's own (which takes the
# user read with the session) name Django's: read as the portal's, so nobody is signed out
# by the upgrade; the new name is written whenever the session is next saved.
LEGACY_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "portal.accounts.backends.PasswordBackend"
}


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        alias = router.db_for_read(model)  # sessions are read from the primary (db_router)
        now = connections[alias].ops.adapt_datetimefield_value(timezone.now())
        data = session_user.read(model, alias, cast(str, self.session_key), now)
        if data is None:  # no such session, or expired: as Django's store, no key
            self._session_key = None
            return None
        return model(session_key=cast(str, self.session_key), session_data=data)

    def decode(self, session_data):
        decoded = super().decode(session_data)
        backend = decoded.get(BACKEND_SESSION_KEY)
        if isinstance(backend, str) and backend in LEGACY_BACKENDS:
            decoded[BACKEND_SESSION_KEY] = LEGACY_BACKENDS[backend]
        return decoded

    def cycle_key(self):
        """A new key for the same data; a signed-in session keeps its `UserSession` row.

        `login` cycles only sessions nobody is signed in to (its signal writes the row).
        Signed-in sessions are cycled by a password change of one's own
        (`update_session_auth_hash`), a two-factor sign-in begun from one, and
        `auth.get_user` when an old secret verified the hash (SECRET_KEY_FALLBACKS). The row
        moves with the key, under a lock that an ending of the user's sessions also takes
        (`accounts/sessions.py`): ending them still ends this one, and its user is still
        read with it."""
        old_key = self.session_key
        if not old_key or SESSION_KEY not in self:
            super().cycle_key()
            return

        def cycle() -> str | None:
            super(SessionStore, self).cycle_key()
            return self.session_key

        session_key_cycled(old_key, cycle, end=self.flush)
