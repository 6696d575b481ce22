"""Brute-force protection for sign-in, shared by the login page and the API token exchange.

State lives in the database (not process memory), so every app server sees the same count.
An account is locked after LOGIN_FAILURES_PER_ACCOUNT failures inside the window, an address
after LOGIN_FAILURES_PER_ADDRESS; either lock lasts LOGIN_LOCKOUT seconds.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.accounts.emails import normalize_email
from portal.accounts.models import LoginFailure, LoginLockout

security_log = logging.getLogger("portal.security")

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts. Sign-in is paused for {minutes} minutes; "
    "try again later or ask an admin to reset your password."
)


def _keys(email: str, ip: str | None) -> list[str]:
    keys = [f"email:{normalize_email(email)}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def is_locked(email: str, ip: str | None) -> bool:
    return LoginLockout.objects.filter(
        key__in=_keys(email, ip), locked_until__gt=timezone.now()
    ).exists()


def lockout_minutes() -> int:
    return settings.LOGIN_LOCKOUT // 60


def record_failure(email: str, ip: str | None) -> bool:
    """Count a failed sign-in; returns True when it triggered a lockout."""
    email = normalize_email(email)[:254]
    now = timezone.now()
    since = now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    locked_until = now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT)
    locked = False
    with transaction.atomic():
        LoginFailure.objects.create(email=email, ip_address=ip, created_at=now)
        recent = LoginFailure.objects.filter(created_at__gte=since)
        if recent.filter(email=email).count() >= settings.LOGIN_FAILURES_PER_ACCOUNT:
            _lock(f"email:{email}", locked_until)
            locked = True
        if ip and recent.filter(ip_address=ip).count() >= settings.LOGIN_FAILURES_PER_ADDRESS:
            _lock(f"ip:{ip}", locked_until)
            locked = True
    if locked:
        security_log.warning("login locked", extra={"email": email, "ip": ip})
    return locked


def record_success(email: str) -> None:
    """A good password clears the account's failure count (not the address's)."""
    LoginFailure.objects.filter(email=normalize_email(email)).delete()


def prune(older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Drop records nobody will count again (run from the periodic housekeeping task)."""
    cutoff = timezone.now() - older_than
    deleted, _ = LoginFailure.objects.filter(created_at__lt=cutoff).delete()
    LoginLockout.objects.filter(locked_until__lt=cutoff).delete()
    return deleted


def _lock(key: str, until: dt.datetime) -> None:
    LoginLockout.objects.update_or_create(key=key, defaults={"locked_until": until})
