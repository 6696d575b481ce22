"""OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed logout token when
someone signs out there (or is signed out by an administrator), and the portal ends that
person's sessions at once instead of at the next re-check.

The logout token is checked like an ID token (RS256 with a key from the provider's JWKS,
`iss`, `aud`, `iat`) plus what the specification adds: a `jti`, the back-channel logout
event in `events`, no `nonce` (so an ID token cannot be passed off as a logout token), and
a `sub`. The person is found by the same issuer + subject binding as at sign-in. A token
naming only a `sid` is refused: sessions are not recorded by the provider's session id.
"""

import logging
import time

import jwt
from django.conf import settings

from portal.accounts.models import SsoIdentity
from portal.accounts.sessions import sessions_end_for_user
from portal.accounts.sso import discovery
from portal.accounts.sso.backend import ALGORITHMS, SsoBackend
from portal.accounts.sso.claims import SsoRefused

security_log = logging.getLogger("portal.security")

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token is delivered the moment it is made; an old one is a replay (it could
# sign out a session started after the logout it was made for).
MAX_AGE_SECONDS = 300


class LogoutTokenRefused(SsoRefused):
    def __init__(self, code: str, **detail):
        super().__init__(code, "", **detail)


def verify_logout_token(token: str, *, now: float | None = None) -> dict:
    """The logout token's claims, or LogoutTokenRefused with the reason."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise LogoutTokenRefused("logout-token-malformed") from error
    if header.get("alg") not in ALGORITHMS:
        raise LogoutTokenRefused("logout-token-algorithm", alg=header.get("alg"))
    try:
        key = SsoBackend()._signing_key(header)
    except SsoRefused as error:
        raise LogoutTokenRefused("logout-token-unknown-key", kid=header.get("kid")) from error
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=discovery.provider().issuer,
            leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "aud", "iat", "jti"]},
        )
    except jwt.InvalidAudienceError as error:
        raise LogoutTokenRefused("logout-token-audience") from error
    except jwt.InvalidIssuerError as error:
        raise LogoutTokenRefused("logout-token-issuer") from error
    except jwt.PyJWTError as error:
        raise LogoutTokenRefused("logout-token-invalid", error=error.__class__.__name__) from error
    now = time.time() if now is None else now
    if not isinstance(claims["iat"], int | float) or claims["iat"] < now - MAX_AGE_SECONDS:
        raise LogoutTokenRefused("logout-token-stale")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutTokenRefused("logout-token-event")
    if "nonce" in claims:
        raise LogoutTokenRefused("logout-token-nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise LogoutTokenRefused("logout-token-no-subject", sid_only="sid" in claims)
    return claims


def subject_of(claims: dict) -> str:
    """The same stable subject as at sign-in: Entra's `oid` when present, else `sub`."""
    return str(claims.get("oid") or claims["sub"])


def sso_backchannel_logout(*, issuer: str, subject: str) -> int:
    """End every session of the portal user bound to (issuer, subject); how many ended.
    API tokens stay: signing out is not a disabled account (the re-check handles that)."""
    link = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if link is None:
        security_log.info("sso back-channel logout: nobody bound", extra={"subject": subject})
        return 0
    ended = sessions_end_for_user(link.user)
    security_log.info("sso back-channel logout", extra={"user_id": link.user_id, "sessions": ended})
    return ended
