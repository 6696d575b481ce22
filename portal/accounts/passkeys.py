"""Passkeys (WebAuthn, through py_webauthn) as a second factor of a password sign-in:
the two ceremonies' options and checks. Writes are in `passkey_services.py`.

- The relying party is this site: its id is APP_URL's host name and the only origin
  accepted is APP_URL's scheme, host and port, so a look-alike site cannot use a passkey
  made here (the browser and the check below both refuse it).
- Each challenge lives in the session, server-side, for one ceremony of one user: it is
  taken out (popped) before anything is checked, so it answers once, and it is refused
  after CHALLENGE_SECONDS.
- User verification (PIN, fingerprint) is preferred, not required: a plain security key
  still works as the second factor next to the password.
- The signature counter must grow when the authenticator keeps one; a counter that stands
  still or goes back means two copies of the key exist (a clone), and the sign-in is
  refused and reported on `portal.security`.
"""

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.accounts.models import PasskeyDevice, User

security_log = logging.getLogger("portal.security")

CHALLENGE_KEY = "_passkey_challenge"
CHALLENGE_SECONDS = 300
# What the browser is given to finish (ms); the session allows a little more.
TIMEOUT_MS = 120_000
# A credential's JSON from the browser: ids, client data, authenticator data, signature
# and attestation are a few kilobytes; anything much larger is not a passkey.
MAX_CREDENTIAL_JSON = 64 * 1024
REGISTER = "register"
SIGN_IN = "sign-in"


class PasskeyRefused(Exception):
    """The browser's answer does not prove the passkey; `reason` is for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewPasskey:
    """A verified registration, ready to be stored."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    aaguid: str
    backed_up: bool


def relying_party() -> tuple[str, str]:
    """(RP id, origin) from APP_URL, read at call time."""
    url = urlsplit(settings.APP_URL)
    return url.hostname or "localhost", f"{url.scheme}://{url.netloc}"


def user_handle(user: User) -> bytes:
    """The opaque account id given to authenticators: stable for the user, and not their
    database id or email (the WebAuthn privacy advice)."""
    return salted_hmac(
        "portal.accounts.passkeys.user-handle", str(user.pk), algorithm="sha256"
    ).digest()


def passkeys_of(user: User):
    return PasskeyDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for credential_id, transports in passkeys_of(user).values_list("credential_id", "transports"):
        known = [AuthenticatorTransport(t) for t in transports if t in _TRANSPORTS]
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(credential_id), transports=known or None
            )
        )
    return descriptors


_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def _keep_challenge(session, purpose: str, user: User, challenge: bytes) -> None:
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "user": user.pk,
        "challenge": bytes_to_base64url(challenge),
        "at": time.time(),
    }


def challenge_pop(session, purpose: str, user: User) -> bytes:
    """The challenge this session was given for `purpose` and `user`, removed so that it
    answers once; PasskeyRefused when there is none, or it is another's or too old."""
    kept = session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        raise PasskeyRefused("no-challenge")
    if kept.get("user") != user.pk:
        raise PasskeyRefused("challenge-of-another-user")
    if time.time() - float(kept.get("at", 0)) > CHALLENGE_SECONDS:
        raise PasskeyRefused("challenge-expired")
    return base64url_to_bytes(kept["challenge"])


def registration_options(session, user: User) -> str:
    """The options for navigator.credentials.create(), as JSON; keeps the challenge."""
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings.OTP_TOTP_ISSUER,
        user_id=user_handle(user),
        user_name=user.email,
        user_display_name=user.full_name or user.email,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        # The same authenticator twice would be one factor under two names.
        exclude_credentials=_descriptors(user),
    )
    _keep_challenge(session, REGISTER, user, options.challenge)
    return options_to_json(options)


def sign_in_options(session, user: User) -> str:
    """The options for navigator.credentials.get(): only this user's passkeys."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _keep_challenge(session, SIGN_IN, user, options.challenge)
    return options_to_json(options)


def _parsed(credential_json: str) -> dict:
    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise PasskeyRefused("malformed")
    try:
        value = json.loads(credential_json)
    except ValueError as error:
        raise PasskeyRefused("malformed") from error
    if not isinstance(value, dict):
        raise PasskeyRefused("malformed")
    return value


def verify_registration(session, user: User, credential_json: str) -> NewPasskey:
    """Check the browser's answer to `registration_options` (challenge, origin, RP id,
    a supported algorithm); PasskeyRefused with the reason otherwise."""
    challenge = challenge_pop(session, REGISTER, user)
    credential = _parsed(credential_json)
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except WebAuthnException as error:
        raise PasskeyRefused(f"registration: {error}") from error
    transports = credential.get("response", {}).get("transports") or []
    return NewPasskey(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if t in _TRANSPORTS][:8],
        aaguid=str(verified.aaguid)[:36],
        backed_up=bool(verified.credential_backed_up),
    )


@dataclass(frozen=True)
class Assertion:
    """A verified sign-in with `device`; `sign_count` is the counter it reported."""

    device: PasskeyDevice
    sign_count: int


def verify_sign_in(session, user: User, credential_json: str) -> Assertion:
    """Check the browser's answer to `sign_in_options`: one of `user`'s own passkeys (a
    passkey of someone else is refused like an unknown one), signed over this session's
    challenge for this site, and a counter that moved on."""
    challenge = challenge_pop(session, SIGN_IN, user)
    try:
        credential = parse_authentication_credential_json(_parsed(credential_json))
    except WebAuthnException as error:
        raise PasskeyRefused("malformed") from error
    device = passkeys_of(user).filter(credential_id=bytes_to_base64url(credential.raw_id)).first()
    if device is None:
        raise PasskeyRefused("unknown-credential")
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(device.public_key),
            # The counter is compared below, after the signature is known to be good, so
            # that a forged answer cannot raise a false clone alarm.
            credential_current_sign_count=0,
        )
    except WebAuthnException as error:
        raise PasskeyRefused(f"assertion: {error}") from error
    if (verified.new_sign_count or device.sign_count) and (
        verified.new_sign_count <= device.sign_count
    ):
        security_log.warning(
            "passkey sign count went back: possible cloned authenticator",
            extra={
                "user_id": user.pk,
                "device_id": device.pk,
                "stored": device.sign_count,
                "reported": verified.new_sign_count,
            },
        )
        raise PasskeyRefused("sign-count")
    return Assertion(device=device, sign_count=verified.new_sign_count)
