"""Company sign-in with OpenID Connect (mozilla-django-oidc), see docs/sso.md.

Everything here is off unless `OIDC_ISSUER` and `OIDC_CLIENT_ID` are set; the settings are
read at call time.
"""

from typing import TYPE_CHECKING

from django.conf import settings

from portal.accounts.emails import normalize_email

if TYPE_CHECKING:
    from portal.accounts.models import User


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


def local_login_allowed(email: str, *, is_admin: bool) -> bool:
    """May this account sign in with a password? Always while LOCAL_LOGIN is on; when it
    is off, only the active admins named in LOCAL_LOGIN_BREAK_GLASS (for when the
    provider is down or misconfigured)."""
    if settings.LOCAL_LOGIN:
        return True
    return is_admin and normalize_email(email) in settings.LOCAL_LOGIN_BREAK_GLASS


def is_break_glass(user: "User") -> bool:
    """An active admin named in LOCAL_LOGIN_BREAK_GLASS."""
    return (
        user.is_active
        and user.is_staff
        and normalize_email(user.email) in settings.LOCAL_LOGIN_BREAK_GLASS
    )
