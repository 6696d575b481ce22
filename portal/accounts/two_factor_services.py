"""Writes for two-factor: setting up an authenticator, recovery codes, turning it off."""

import logging

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import PasskeyDevice, User
from portal.accounts.two_factor import AUTHENTICATOR_DEVICE, RECOVERY_DEVICE

security_log = logging.getLogger("portal.security")

RECOVERY_CODES = 10


def two_factor_setup_begin(*, user: User) -> TOTPDevice:
    """A new secret for an authenticator app, unconfirmed until a code from it is given.
    A set-up started before and never finished is replaced."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_DEVICE, confirmed=False)


def two_factor_setup_confirm(*, user: User, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it. Returns new recovery codes
    (shown once), or None when the code is wrong (nothing changes). The authenticator it
    replaces, if any, and the old recovery codes stop working."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None or not device.verify_token(code):
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user)
    security_log.info("two-factor enabled", extra={"user_id": user.pk})
    return codes


def two_factor_recovery_codes_renew(*, user: User) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working."""
    with transaction.atomic():
        codes = new_recovery_codes(user)
    security_log.info("two-factor recovery codes renewed", extra={"user_id": user.pk})
    return codes


def two_factor_disable(*, user: User, actor: User) -> None:
    """Remove every device of the user (their own choice, with a current code)."""
    with transaction.atomic():
        _remove_devices(user)
    security_log.warning("two-factor disabled", extra={"user_id": user.pk, "actor_id": actor.pk})


def two_factor_reset(*, user: User, actor: User) -> int:
    """An admin removes someone's authenticator, passkeys and recovery codes (a lost
    phone or key). Where two-factor is required, their next password sign-in sets it up
    again before signing in. Returns how many devices were removed (0: nothing to reset)."""
    with transaction.atomic():
        removed = _remove_devices(user)
    security_log.warning(
        "two-factor reset by admin",
        extra={"user_id": user.pk, "actor_id": actor.pk, "devices": removed},
    )
    return removed


def _remove_devices(user: User) -> int:
    """Every two-factor device of `user` (authenticator, passkeys, recovery codes),
    confirmed or not; the count of devices."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    passkeys, _ = PasskeyDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.filter(user=user).count()
    StaticDevice.objects.filter(user=user).delete()  # cascades to its tokens
    return totp + passkeys + static


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes (call inside the caller's transaction)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes
