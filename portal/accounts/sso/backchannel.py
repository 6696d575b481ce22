"""OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed logout token when
someone signs out there (or is signed out by an administrator), and the portal ends that
person's sessions at once instead of at the next re-check.

The logout token is checked like an ID token (RS256 with a key from the provider's JWKS,
`iss`, `aud`, `iat`) plus what the specification adds: a `jti`, the back-channel logout
event in `events`, no `nonce` (so an ID token cannot be passed off as a logout token), and
a `sub`, a `sid` or both.

- `sub` only: every session of the person bound by issuer + subject (as at sign-in) ends.
- `sid` (with or without `sub`): only the session that company sign-in started ends
  (the ID token's `sid` is recorded on the session at sign-in); with `sub` too, only if
  it is that person's, and when none of theirs carries that sid, their sessions with no
  recorded sid end (we cannot tell those apart).
- A `jti` is acted on once: it is recorded (in the database, hashed with the issuer)
  until the token would be refused as too old anyway, and a second delivery is refused.
"""

import datetime as dt
import logging
import time

import jwt
from django.conf import settings
from django.db import transaction

from portal.accounts.models import SsoIdentity
from portal.accounts.sessions import sessions_end_for_oidc_sid, sessions_end_for_user
from portal.accounts.sso import discovery
from portal.accounts.sso.backend import ALGORITHMS, SsoBackend
from portal.accounts.sso.claims import SsoRefused
from portal.accounts.sso.services import logout_token_record

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
    for claim in ("sub", "sid"):
        if claim in claims and (not isinstance(claims[claim], str) or not claims[claim]):
            raise LogoutTokenRefused("logout-token-invalid", error=f"bad {claim}")
    if "sub" not in claims and "sid" not in claims:
        raise LogoutTokenRefused("logout-token-no-subject")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise LogoutTokenRefused("logout-token-invalid", error="bad jti")
    return claims


def subject_of(claims: dict) -> str:
    """The same stable subject as at sign-in: Entra's `oid` when present, else `sub`."""
    return str(claims.get("oid") or claims["sub"])


def remembered_until(claims: dict) -> dt.datetime:
    """After this the token is refused by its age (or expiry) alone, so its `jti` need
    not be remembered any longer."""
    last = float(claims["iat"]) + MAX_AGE_SECONDS
    if isinstance(claims.get("exp"), int | float):
        last = max(last, float(claims["exp"]) + settings.OIDC_CLOCK_SKEW_SECONDS)
    return dt.datetime.fromtimestamp(last, tz=dt.UTC)


def sso_backchannel_logout(*, issuer: str, claims: dict) -> int:
    """End the sessions a verified logout token names; how many ended. Raises
    LogoutTokenRefused (`logout-token-replayed`) for a `jti` acted on before. API tokens
    stay: signing out is not a disabled account (the re-check handles that)."""
    subject = subject_of(claims) if "sub" in claims else None
    sid = claims.get("sid")
    with transaction.atomic():
        if not logout_token_record(
            issuer=issuer, jti=claims["jti"], until=remembered_until(claims)
        ):
            raise LogoutTokenRefused("logout-token-replayed")
        user = None
        if subject is not None:
            link = (
                SsoIdentity.objects.select_related("user")
                .filter(issuer=issuer, subject=subject)
                .first()
            )
            if link is None:
                security_log.info(
                    "sso back-channel logout: nobody bound", extra={"subject": subject}
                )
                return 0
            user = link.user
        if sid is not None:
            ended = sessions_end_for_oidc_sid(sid, user=user)
        else:
            assert user is not None  # verify_logout_token demands sub or sid
            ended = sessions_end_for_user(user)
    security_log.info(
        "sso back-channel logout",
        extra={"user_id": user.pk if user else None, "sid": sid, "sessions": ended},
    )
    return ended
