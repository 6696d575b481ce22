"""Where to send a user after signing in."""

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(candidate: str | None) -> str:
    """Follow `?next=` only to a same-site relative path; anything else goes to the dashboard.

    Refused: absolute URLs (`https://evil.example`), scheme-relative ones (`//evil.example`),
    backslash tricks browsers read as `//` (`/\\evil.example`), and control characters.
    """
    default = settings.LOGIN_REDIRECT_URL
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
        return default
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts=set(), require_https=False):
        return default
    return candidate
