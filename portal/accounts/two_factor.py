"""Two-factor for password sign-ins (django-otp): who needs it, the half-signed-in state
between password and code, and checking a code. Writes are in `two_factor_services.py`.

A password alone never signs in someone who needs a second factor: the login view keeps
only "this browser proved the password of user N" in the session (for
TWO_FACTOR_PENDING_SECONDS) and signs in after a good code, or after setting up an
authenticator when it is required and missing. Company sign-ins are the provider's
business (its own MFA) and never ask.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import PasskeyDevice, User

PENDING_KEY = "_two_factor_pending"
RECOVERY_DEVICE = "recovery codes"
AUTHENTICATOR_DEVICE = "authenticator app"


def required_for(user: User) -> bool:
    """TWO_FACTOR_REQUIRED: `admins` (default in production; only while LOCAL_LOGIN is
    on: with it off, passwords are the break-glass door), `everyone`, or `off`."""
    policy = settings.TWO_FACTOR_REQUIRED
    if policy == "everyone":
        return True
    return policy == "admins" and user.is_staff and settings.LOCAL_LOGIN


def enrolled(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def needed(user: User) -> bool:
    """Does a password sign-in of `user` need a second step?"""
    return required_for(user) or enrolled(user)


@dataclass(frozen=True)
class Pending:
    user: User
    backend: str
    next_url: str


def pending_begin(session, *, user: User, backend: str, next_url: str) -> None:
    session.cycle_key()  # the half-signed-in state gets a fresh key, like a sign-in
    session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "at": time.time(),
    }


def pending_of(session) -> Pending | None:
    """The user who proved their password in this session, if still fresh and active."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    if time.time() - state.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=int(state.get("user") or 0), is_active=True).first()
    if user is None:
        return None
    return Pending(user=user, backend=state["backend"], next_url=state["next"])


def pending_end(session) -> None:
    session.pop(PENDING_KEY, None)


def normalise_code(code: str) -> str:
    return "".join(code.split()).lower()


def check_code(user: User, code: str):
    """The confirmed device (authenticator or recovery codes) that accepts `code`, or
    None (a passkey accepts no typed code: see `passkeys.py`). TOTP codes are used once
    (django-otp keeps the last time step); recovery codes are deleted when used. Rows are
    locked while checking, so two parallel requests cannot both use one code."""
    code = normalise_code(code)
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(code):
                return device
    return None


def recovery_codes_left(user: User) -> int:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return device.token_set.count() if device else 0


def unconfirmed_authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def is_recovery(device) -> bool:
    return isinstance(device, StaticDevice)


def enrolled_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_passkey(user: User) -> bool:
    return PasskeyDevice.objects.filter(user=user, confirmed=True).exists()


def passkey_count(user: User) -> int:
    return PasskeyDevice.objects.filter(user=user, confirmed=True).count()
