"""Brute-force protection for sign-in, shared by the login page and the API token exchange.

OWASP ASVS 5.0 (V6) asks that an attacker cannot lock the owner out, so three counters
guard every attempt (see docs/security.md):

- **the account from one address** (`pair:`): LOGIN_FAILURES_PER_ACCOUNT failures lock
  that account *at that address* for LOGIN_LOCKOUT seconds. The owner elsewhere is not
  affected.
- **the address** (`ip:`): LOGIN_FAILURES_PER_ADDRESS failures, whatever the accounts,
  lock the address for LOGIN_LOCKOUT seconds (one guesser trying many accounts).
  IPv6 addresses count per /64, the block one subscriber usually gets.
- **the account from anywhere** (`account:`): never locked, only slowed down. After
  LOGIN_ACCOUNT_SLOWDOWN_AFTER attempts without a success, each attempt must wait for the
  one before (1 s, doubling, at most LOGIN_ACCOUNT_MAX_DELAY_SECONDS), so guessers spread
  over many addresses get a trickle and the owner waits seconds, not minutes.

Each attempt is counted *before* the password is checked, by a conditional UPDATE that
only succeeds while the counter is under its limit, so parallel requests can never get
more password checks than the limit (the database serialises the updates of one row).
A good password gives its attempt back. Counts live in the database, so every app
server sees them. An unknown email is counted and answered exactly like a known one.
"""

import datetime as dt
import ipaddress
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts.emails import MAX_EMAIL_LENGTH, normalize_email
from portal.accounts.models import LoginThrottle, User
from portal.accounts.sso import local_login_allowed
from portal.lib.request_info import client_ip

security_log = logging.getLogger("portal.security")

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts. Sign-in is paused for {minutes} minutes; "
    "try again later or reset your password."
)
SLOWED_MESSAGE = "Too many sign-in attempts for this account. Wait {wait} and try again."

NO_DATE = Value(None, output_field=DateTimeField())


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was not allowed, for the 429 answer."""

    message: str
    retry_after: int  # seconds, for the Retry-After header
    reason: str = "locked"  # or "slowed": the account-wide wait


@dataclass(frozen=True)
class Outcome:
    """The result of one sign-in attempt: a user, a refusal, or neither (bad credentials)."""

    user: User | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class _Keys:
    pair: str
    address: str | None
    account: str


def _address_bucket(ip: str | None) -> str | None:
    """The address as counted: IPv4 as is, IPv6 by its /64 network."""
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _keys(email: str, ip: str | None) -> _Keys:
    email = normalize_email(email)[:MAX_EMAIL_LENGTH]
    bucket = _address_bucket(ip)
    return _Keys(
        pair=f"pair:{email}|{bucket or '-'}",
        address=f"ip:{bucket}" if bucket else None,
        account=f"account:{email}",
    )


def lockout_minutes() -> int:
    return max(1, settings.LOGIN_LOCKOUT // 60)


def locked_refusal() -> Refusal:
    return Refusal(
        LOCKED_MESSAGE.format(minutes=lockout_minutes()), retry_after=settings.LOGIN_LOCKOUT
    )


def authenticate_throttled(request: HttpRequest, email: str, password: str) -> Outcome:
    """Check `email` and `password` under the three counters; the one way to sign in."""
    email = normalize_email(email)
    ip = client_ip(request)
    keys = _keys(email, ip)
    refusal = attempt_begin(keys)
    if refusal is not None:
        security_log.warning(f"login refused: {refusal.reason}", extra={"email": email, "ip": ip})
        return Outcome(refusal=refusal)
    user = authenticate(request, username=email, password=password)
    if user is not None and not local_login_allowed(email, is_admin=user.is_admin):
        # LOCAL_LOGIN=off: a good password of anyone but a break-glass admin counts and
        # reads as a failure, so the page tells nobody which accounts are break-glass.
        security_log.warning("login refused: local sign-in off", extra={"email": email, "ip": ip})
        user = None
    if user is not None:
        attempt_succeeded(keys)
        return Outcome(user=user)
    if attempt_failed(keys):
        security_log.warning("login locked", extra={"email": email, "ip": ip})
        return Outcome(refusal=locked_refusal())
    return Outcome()


def attempt_begin(keys: _Keys, *, now: dt.datetime | None = None) -> Refusal | None:
    """Count one attempt on every counter, or refuse it (the password is not checked then).

    The address and the pair come first: an attempt they refuse never takes one of the
    account's slow-down slots, so a locked-out guesser cannot starve the owner. The
    address counts password checks only (a refused attempt gives its count back).
    """
    now = now or timezone.now()
    if keys.address and not _count_under_limit(
        keys.address, settings.LOGIN_FAILURES_PER_ADDRESS, now
    ):
        return locked_refusal()
    if not _count_under_limit(keys.pair, settings.LOGIN_FAILURES_PER_ACCOUNT, now):
        # No password was checked: the address keeps its attempt, so someone retrying a
        # locked account behind a shared address (an office NAT) does not lock everyone.
        _give_back(keys.address)
        return locked_refusal()
    wait = _take_account_slot(keys.account, now)
    if wait is not None:
        # Not the caller's failure: give the address and pair their attempt back.
        _give_back(keys.address, keys.pair)
        return Refusal(
            SLOWED_MESSAGE.format(wait=f"{wait} second{'s' if wait != 1 else ''}"),
            retry_after=wait,
            reason="slowed",
        )
    return None


def attempt_succeeded(keys: _Keys) -> None:
    """A good password: the pair starts afresh; address and account get the attempt back."""
    LoginThrottle.objects.filter(key=keys.pair).delete()
    _give_back(keys.address, keys.account)


def attempt_failed(keys: _Keys, *, now: dt.datetime | None = None) -> bool:
    """A wrong password (already counted): lock a pair or address that is now full.

    Returns True when this failure locked the pair or the address.
    """
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT)
    limits = [(keys.pair, settings.LOGIN_FAILURES_PER_ACCOUNT)]
    if keys.address:
        limits.append((keys.address, settings.LOGIN_FAILURES_PER_ADDRESS))
    locked = False
    for key, limit in limits:
        locked |= bool(
            LoginThrottle.objects.filter(
                key=key, attempts__gte=limit, blocked_until__isnull=True
            ).update(blocked_until=until)
        )
    return locked


def clear_account(email: str) -> None:
    """Proving control of the mailbox (a reset link) lifts the account's locks everywhere."""
    email = normalize_email(email)[:MAX_EMAIL_LENGTH]
    LoginThrottle.objects.filter(
        Q(key__startswith=f"pair:{email}|") | Q(key=f"account:{email}")
    ).delete()


def prune(older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Drop counters nobody will read again (run by the worker's periodic schedule)."""
    cutoff = timezone.now() - older_than
    deleted, _ = LoginThrottle.objects.filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lt=cutoff), last_attempt_at__lt=cutoff
    ).delete()
    return deleted


# --- the counters ---------------------------------------------------------------------------


def _ensure_row(key: str, now: dt.datetime) -> None:
    """Create the counter if missing (INSERT … ON CONFLICT DO NOTHING on both databases)."""
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(key=key, attempts=0, window_start=now, last_attempt_at=now)],
        ignore_conflicts=True,
    )


def _count_under_limit(key: str, limit: int, now: dt.datetime) -> bool:
    """Add one attempt to a pair or address counter if it is under `limit` and not locked.

    One UPDATE whose WHERE clause is the limit: of N parallel requests at most `limit`
    match (PostgreSQL re-checks the condition on the row after waiting for its lock;
    SQLite runs one writer at a time). A lock that has run out, or a window that ended
    without a lock, starts the count again.
    """
    _ensure_row(key, now)
    since = now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    fresh = Q(blocked_until__lte=now) | Q(blocked_until__isnull=True, window_start__lt=since)
    room = Q(blocked_until__isnull=True, attempts__lt=limit)
    return bool(
        LoginThrottle.objects.filter(Q(key=key) & (fresh | room)).update(
            attempts=Case(When(fresh, then=Value(1)), default=F("attempts") + 1),
            window_start=Case(When(fresh, then=Value(now)), default=F("window_start")),
            blocked_until=Case(When(fresh, then=NO_DATE), default=F("blocked_until")),
            last_attempt_at=now,
        )
    )


def _delays() -> list[int]:
    """The account's waits between attempts: 1, 2, 4 … seconds, up to the maximum."""
    ceiling = settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS
    delays = [1]
    while delays[-1] < ceiling:
        delays.append(min(delays[-1] * 2, ceiling))
    return delays


def _take_account_slot(key: str, now: dt.datetime) -> int | None:
    """Count one attempt on the account if its wait is over; else the seconds left.

    The UPDATE both checks the wait (`blocked_until` passed) and sets the next one from
    the count it finds, so two parallel requests cannot both take the same slot. The
    count starts again after a window with no attempt at all.
    """
    _ensure_row(key, now)
    since = now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    idle = Q(last_attempt_at__lt=since)
    free = Q(blocked_until__isnull=True) | Q(blocked_until__lte=now)
    first_slowed = settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER - 1  # attempts before this one
    # SET reads the row as it was, so `attempts` here is the count before this attempt.
    waits = [
        When(attempts__gte=first_slowed + step, then=Value(now + dt.timedelta(seconds=delay)))
        for step, delay in reversed(list(enumerate(_delays())))
    ]
    taken = LoginThrottle.objects.filter(Q(key=key) & (idle | free)).update(
        attempts=Case(When(idle, then=Value(1)), default=F("attempts") + 1),
        window_start=Case(When(idle, then=Value(now)), default=F("window_start")),
        blocked_until=Case(When(idle, then=NO_DATE), *waits, default=NO_DATE),
        last_attempt_at=now,
    )
    if taken:
        return None
    until = LoginThrottle.objects.filter(key=key).values_list("blocked_until", flat=True).first()
    remaining = (until - now).total_seconds() if until else 1
    return max(1, math.ceil(remaining))


def _give_back(*keys: str | None) -> None:
    """Return one attempt to each counter (never below zero)."""
    LoginThrottle.objects.filter(key__in=[k for k in keys if k], attempts__gt=0).update(
        attempts=F("attempts") - 1
    )
