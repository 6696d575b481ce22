"""Writes for passkeys: adding one, removing one, recording a use."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import two_factor
from portal.accounts.models import PasskeyDevice, User
from portal.accounts.passkeys import NewPasskey
from portal.accounts.two_factor_services import new_recovery_codes
from portal.lib.errors import Conflict

security_log = logging.getLogger("portal.security")

MAX_PASSKEYS = 20
NAME_LENGTH = 64


class StalePasskeyUse(Conflict):
    """Another sign-in with the same passkey moved its counter first (a lost race)."""

    def __init__(self) -> None:
        super().__init__("This passkey was just used for another sign-in.", code="stale")


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        message = "Give the passkey a name you will recognise."
        raise ValidationError({"name": ValidationError(message, code="required")})
    if len(name) > NAME_LENGTH:
        raise ValidationError(
            {
                "name": ValidationError(
                    f"Keep the name to {NAME_LENGTH} characters.", code="max_length"
                )
            }
        )
    return name


def passkey_add(*, user: User, name: str, passkey: NewPasskey) -> tuple[PasskeyDevice, list[str]]:
    """Store a verified passkey under the person's name for it. Returns the device and,
    when this turns two-factor on (no recovery codes yet), new recovery codes to show once:
    a lost passkey must not lock its owner out."""
    name = _clean_name(name)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one add at a time
        if PasskeyDevice.objects.filter(user=user).count() >= MAX_PASSKEYS:
            raise Conflict(f"You have {MAX_PASSKEYS} passkeys; remove one first.")
        if PasskeyDevice.objects.filter(credential_id=passkey.credential_id).exists():
            raise Conflict("This passkey is already registered.")
        device = PasskeyDevice.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=passkey.credential_id,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
            transports=passkey.transports,
            aaguid=passkey.aaguid,
            backed_up=passkey.backed_up,
        )
        has_codes = StaticDevice.objects.filter(user=user, confirmed=True).exists()
        codes = [] if has_codes else new_recovery_codes(user)
    security_log.info(
        "passkey added", extra={"user_id": user.pk, "device_id": device.pk, "aaguid": device.aaguid}
    )
    return device, codes


def passkey_remove(*, user: User, device_id: int) -> bool:
    """Remove one of the person's own passkeys (the view has checked their password).

    Refused when two-factor is required and this is their last second factor besides
    recovery codes. Removing the last one when nothing else is set up turns two-factor
    off, recovery codes included. Returns True when two-factor is now off."""
    with transaction.atomic():
        device = PasskeyDevice.objects.select_for_update().filter(user=user, pk=device_id).first()
        if device is None:
            raise ValidationError("That passkey is not on your account.", code="not-found")
        others = (
            PasskeyDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).exists()
            or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        )
        if not others and two_factor.required_for(user):
            raise PermissionDenied(
                "Two-factor is required for your account: add another passkey or an "
                "authenticator app before removing your last passkey."
            )
        device.delete()
        turned_off = not others
        if turned_off:
            StaticDevice.objects.filter(user=user).delete()
    security_log.warning(
        "passkey removed",
        extra={"user_id": user.pk, "device_id": device_id, "two_factor_off": turned_off},
    )
    return turned_off


def passkey_used(*, device: PasskeyDevice, sign_count: int) -> None:
    """Record a good sign-in: the new counter and the time. The UPDATE only matches the
    counter that was checked, so two parallel sign-ins with one counting passkey cannot
    both pass (authenticators that keep no counter report 0 every time)."""
    matched = PasskeyDevice.objects.filter(pk=device.pk, sign_count=device.sign_count).update(
        sign_count=sign_count, last_used_at=timezone.now()
    )
    if not matched:
        raise StalePasskeyUse
