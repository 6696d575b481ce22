"""Ending a user's server-side sessions, and keeping track of a session whose key changes."""

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
        keys = list(tracked.values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        tracked.delete()
    return len(keys)


def session_key_moved(old_key: str, new_key: str) -> None:
    """A signed-in session got a new key (`SessionStore.cycle_key`): its `UserSession` row
    follows, so ending the user's sessions still ends it and its user is still read with
    it (`session_user.py`)."""
    UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


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
        keys = list(tracked.values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        tracked.delete()
    return len(keys)
