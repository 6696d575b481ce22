"""Password reset by email: single-use, expiring links, no account enumeration, rate-limited.

The link's token is Django's `default_token_generator`: it is derived from the password
hash and last login, so it stops working once used (the password changes) and after
PASSWORD_RESET_TIMEOUT. Accounts do not send mail themselves: the email goes through the
notification outbox named by PASSWORD_RESET_MAILER (imported at call time, so accounts
does not depend on the notifications app).
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.module_loading import import_string

from portal.accounts import throttle
from portal.accounts.emails import normalize_email
from portal.accounts.models import PasswordResetRequest, User
from portal.accounts.sso import is_break_glass, sso_enabled

security_log = logging.getLogger("portal.security")


def reset_rate_limited(email: str, ip: str | None) -> bool:
    since = timezone.now() - dt.timedelta(hours=1)
    recent = PasswordResetRequest.objects.filter(created_at__gte=since)
    if recent.filter(email=email).count() >= settings.PASSWORD_RESETS_PER_ACCOUNT_HOUR:
        return True
    return bool(ip) and (
        recent.filter(ip_address=ip).count() >= settings.PASSWORD_RESETS_PER_ADDRESS_HOUR
    )


def password_reset_request(*, email: str, ip: str | None) -> None:
    """Queue a reset link if `email` belongs to an active user who may reset (see
    `reset_allowed`). Says nothing either way."""
    email = normalize_email(email)
    if reset_rate_limited(email, ip):
        security_log.warning("password reset rate-limited", extra={"email": email, "ip": ip})
        return
    with transaction.atomic():
        PasswordResetRequest.objects.create(email=email, ip_address=ip)
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            return
        if not reset_allowed(user):
            refused = True
        else:
            refused = False
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            path = reverse("password-reset-confirm", args=[uid, token])
            import_string(settings.PASSWORD_RESET_MAILER)(
                user=user, reset_path=path, event_key=f"password-reset:{user.pk}:{token}"
            )
    if refused:
        security_log.warning(
            "password reset refused: company account", extra={"user_id": user.pk, "ip": ip}
        )
    else:
        security_log.info("password reset link queued", extra={"user_id": user.pk, "ip": ip})


def reset_allowed(user: User) -> bool:
    """May this account get a local password by a reset link? Not one bound to a company
    identity while company sign-in is configured: its password would be a second way in
    that outlives the leaver's account at the provider. The break-glass admins are the
    exception (they are the door for when the provider is broken). With company sign-in
    switched off, the bound accounts reset like any other, so nobody is stranded."""
    if not sso_enabled() or is_break_glass(user):
        return True
    return not user.sso_identities.exists()


def user_for_reset(uidb64: str, token: str) -> User | None:
    """The user a link was made for, if the link is still good."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    if not default_token_generator.check_token(user, token) or not reset_allowed(user):
        return None  # also a link sent before the account was bound to a company identity
    return user


def clear_lockout(user: User) -> None:
    """Proving control of the mailbox lifts the account's sign-in locks and slowdown."""
    throttle.clear_account(user.email)
