"""Personal access tokens: create, revoke, and resolve a presented token to its user.

A token reads `ptk_<43 url-safe characters>` (32 random bytes). The `ptk_` marker lets
secret scanners and people recognise it; only its SHA-256 digest is stored.
"""

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import is_admin
from portal.api.models import ApiToken
from portal.lib.errors import Conflict

security_log = logging.getLogger("portal.security")

TOKEN_MARKER = "ptk_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = len(TOKEN_MARKER) + 6
NAME_MAX = 100
# last_used_at is written at most this often: an UPDATE per request would cost a write
# (and a row lock) on every call, while "used within the last minute" is all people need.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
# Every token expires: this many days unless asked otherwise, at most API_TOKEN_MAX_DAYS.
DEFAULT_LIFETIME_DAYS = 90


class TooManyTokens(Conflict):
    """The user already has API_TOKENS_PER_USER working tokens (409 on the page and API)."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"You already have {limit} live tokens, the most allowed. "
            "Revoke one you no longer use (at /settings/tokens) and try again.",
            code="too_many_tokens",
        )


def max_lifetime_days() -> int:
    return settings.API_TOKEN_MAX_DAYS


def default_lifetime_days() -> int:
    return min(DEFAULT_LIFETIME_DAYS, max_lifetime_days())


def check_lifetime(days: int | None) -> int:
    """The lifetime to give a new token: `days` if allowed (None: the default)."""
    if days is None:
        return default_lifetime_days()
    if not 1 <= days <= max_lifetime_days():
        raise ValidationError(
            {"expires_in_days": f"Choose between 1 and {max_lifetime_days()} days."}
        )
    return days


@dataclass(frozen=True)
class NewToken:
    """The stored row and the one and only copy of its secret."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user, name: str, expires_in_days: int | None = None) -> NewToken:
    """Issue a token for `user`; the secret is returned once and never stored.

    Every token expires (`expires_in_days`, default 90, at most API_TOKEN_MAX_DAYS), and a
    user has at most API_TOKENS_PER_USER live ones (TooManyTokens beyond).
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that uses it."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"The name is too long (at most {NAME_MAX} characters)."})
    days = check_lifetime(expires_in_days)
    now = timezone.now()
    secret = TOKEN_MARKER + secrets.token_urlsafe(32)
    with transaction.atomic():
        # Lock the user row so two parallel requests cannot both take the last place.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        limit = settings.API_TOKENS_PER_USER
        if working_tokens(user, now=now).count() >= limit:
            raise TooManyTokens(limit)
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:PREFIX_LENGTH],
            digest=digest(secret),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
    return NewToken(token=token, secret=secret)


def token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of `user`'s own tokens; False when there is no such live token of theirs."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def token_revoke_for(*, actor, owner, token_id: int | None = None) -> int:
    """An admin revokes one of `owner`'s live tokens (or, without `token_id`, all of them).

    Returns how many were revoked (0: no such live token of theirs). Logged to
    `portal.security` with who did it; the secret is never known, so never logged.
    """
    if not is_admin(actor):
        raise PermissionDenied("Only admins can revoke other people's tokens.")
    tokens = ApiToken.objects.filter(user=owner, revoked_at__isnull=True)
    if token_id is not None:
        tokens = tokens.filter(pk=token_id)
    ids = list(tokens.values_list("pk", flat=True))
    count = ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        security_log.info(
            "api tokens revoked by an admin",
            extra={"actor_id": actor.pk, "user_id": owner.pk, "token_ids": ids},
        )
    return count


def tokens_revoke_on_password_change(user) -> int:
    """Every live token of `user` stops working (registered with accounts' services and run
    inside the password change's transaction). Returns how many were revoked."""
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        security_log.info(
            "api tokens revoked by a password change", extra={"user_id": user.pk, "count": count}
        )
    return count


def user_for_token(secret: str):
    """The active user a presented token acts for, or None (unknown, revoked, expired).

    One query (token joined with its user); a second, at most once a minute, records use.
    """
    if not secret.startswith(TOKEN_MARKER) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    user = token.user
    user.api_token = token  # which token, for the security log and the admin's token list
    return user


def live_tokens(user):
    """The user's tokens for the settings page (revoked ones are left out)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def working_tokens(user, *, now: dt.datetime | None = None):
    """The user's tokens that still open the API: not revoked and not expired."""
    return live_tokens(user).filter(expires_at__gt=now or timezone.now())
