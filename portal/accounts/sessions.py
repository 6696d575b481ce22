"""Ending a user's server-side sessions, and keeping track of a session whose key changes.

A session's key changes (`SessionStore.cycle_key`) while another request may be ending the
user's sessions (sign out everywhere, a password change, the provider's logout). Both lock
the session's `UserSession` row first, so one waits for the other: an ending that comes
first leaves nothing to cycle (the session is signed out instead), one that comes second
finds the row under its new key and ends that session.
"""

from collections.abc import Callable

from django.contrib.sessions.models import Session
from django.db import transaction

from portal.accounts.models import User, UserSession

# Where a company sign-in leaves the provider's session id (`sid`) for the sign-in signal
# to record on the new session (`UserSession.oidc_sid`).
OIDC_SID_SESSION_KEY = "_oidc_sid"


def sessions_end_for_user(user: User, *, keep_session_key: str | None = None) -> int:
    """Delete every session of `user` except `keep_session_key`; returns how many ended."""
    with transaction.atomic():
        tracked = UserSession.objects.filter(user=user)
        if keep_session_key:
            tracked = tracked.exclude(session_key=keep_session_key)
        return _end(tracked)


def session_key_cycled(old_key: str, cycle: Callable[[], str | None], end: Callable[[], None]):
    """A signed-in session gets a new key: `cycle()` (Django's, returning the new key) runs
    with the session's `UserSession` row locked and the row follows the key, so ending the
    user's sessions still ends it and its user is still read with it (`session_user.py`).
    If the session was ended meanwhile, `end()` runs instead: nothing is cycled back to
    life."""
    with transaction.atomic():
        list(UserSession.objects.select_for_update().filter(session_key=old_key).values("pk"))
        if not Session.objects.filter(session_key=old_key).exists():
            end()
            return
        new_key = cycle()
        if new_key:
            UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def _end(tracked) -> int:
    """End the sessions of `tracked` (UserSession rows, read locked: a key being cycled is
    read once its new key is committed) and their rows; how many ended."""
    keys = list(tracked.select_for_update().values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def sessions_end_for_oidc_sid(sid: str, *, user: User | None = None) -> int:
    """Delete the sessions started by the company sign-in whose provider session id is
    `sid` (of `user` only, when given); returns how many ended.

    With `user`, when none of theirs carries `sid`, their sessions with no recorded sid
    end instead: started before sids were recorded, or by a provider whose ID tokens
    carry none, any of them may be the one meant. Sessions with another known sid stay.
    """
    with transaction.atomic():
        tracked = UserSession.objects.filter(oidc_sid=sid)
        if user is not None:
            tracked = tracked.filter(user=user)
            if not tracked.exists():
                tracked = UserSession.objects.filter(user=user, oidc_sid="")
        return _end(tracked)
