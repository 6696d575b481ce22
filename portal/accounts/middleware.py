"""Sliding idle timeout for sessions without a database write on every request."""

import time

from django.conf import settings

# Extending the expiry at most once a minute keeps the timeout accurate to a minute while
# sparing the session table an UPDATE per request.
REFRESH_EVERY_SECONDS = 60
_KEY = "_seen_at"


def _now() -> int:
    return int(time.time())


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = _now()
            if now - session.get(_KEY, 0) >= REFRESH_EVERY_SECONDS:
                session[_KEY] = now  # marks the session modified: saved with a new expiry
                session.set_expiry(settings.SESSION_IDLE_TIMEOUT)
        return response
