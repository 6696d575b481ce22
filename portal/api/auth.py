"""Who is calling: a personal access token, or the portal's own session (with CSRF).

Handlers read the caller from `request.auth` (a User). Bearer requests never touch
`request.user` or the session: setting either would make the session middleware write a
session row (and a cookie) for every script call.
"""

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import BaseThrottle
from ninja.utils import check_csrf

from portal.api import ratelimit
from portal.api.tokens import user_for_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ptk_…`; revoked, expired or inactive users' tokens fail."""

    def authenticate(self, request: HttpRequest, token: str):
        return user_for_token(token.strip())


class SessionAuth(APIKeyCookie):
    """The signed-in browser session, for the portal's own pages and the docs' "Try it out".

    Unlike ninja's `django_auth`, CSRF is checked only once a session user is found, so an
    anonymous or token caller is told 401 (not a CSRF 403), and a request that carries an
    Authorization header is never answered from a cookie it happens to send too.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key or "Authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return user


class PerUserThrottle(BaseThrottle):
    """API_RATE_LIMIT_PER_MINUTE requests per person and minute: all their tokens and their
    session count together, so minting more tokens does not buy more requests."""

    def allow_request(self, request: HttpRequest) -> bool:
        user = getattr(request, "auth", None)
        if user is None:
            return True  # unauthenticated endpoints have their own limits (sign-in lockout)
        wait = ratelimit.hit(f"user:{user.pk}")
        # Throttles are shared by every request; the wait is kept on the request instead.
        request._api_retry_after = wait
        return wait is None

    def wait(self) -> float | None:
        # The throttle object is shared by concurrent requests, so it keeps no state; the
        # Throttled handler reads the wait from the request.
        return None


token_auth = TokenAuth()
session_auth = SessionAuth()
AUTH = [token_auth, session_auth]
