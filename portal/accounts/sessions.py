"""Ending a user's server-side sessions."""

from django.contrib.sessions.models import Session
from django.db import transaction

from portal.accounts.models import User, UserSession


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
