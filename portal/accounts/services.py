"""Writes to users: every change an admin or the user makes goes through here."""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal

from portal.accounts import triage
from portal.accounts.models import User
from portal.accounts.sessions import sessions_end_for_user

security_log = logging.getLogger("portal.security")

# Sent inside user_update's transaction when an active account is deactivated (`user`).
user_deactivated = Signal()

# Credentials kept by apps above accounts (the API's personal access tokens) that must end
# when the password changes. Each revoker takes the user and returns how many it ended.
CredentialRevoker = Callable[[User], int]
_credential_revokers: list[CredentialRevoker] = []


def register_credential_revoker(revoker: CredentialRevoker) -> None:
    """Apps further up the dependency chain end their credentials on a password change,
    without accounts importing them (the API registers its tokens at start-up)."""
    if revoker not in _credential_revokers:
        _credential_revokers.append(revoker)


def user_create(
    *,
    email: str,
    full_name: str,
    password: str | None,
    is_staff: bool = False,
    is_active: bool = True,
    password_hash: str | None = None,
    actor: User | None = None,
) -> User:
    """Create a user. `password_hash` is an already-hashed password in Django's format
    (the CSV import of the original system's bcrypt hashes); `password` None (and no hash)
    leaves the user without a usable password until one is set."""
    with transaction.atomic():
        user = User.objects.create_user(
            email, password, full_name=full_name, is_staff=is_staff, is_active=is_active
        )
        if password_hash is not None:
            user.password = password_hash
            user.save(update_fields=["password"])
    security_log.info(
        "user created", extra={"user_id": user.pk, "actor_id": getattr(actor, "pk", None)}
    )
    return user


def user_update(
    *,
    user: User,
    actor: User | None,
    full_name: str,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    on_triage_duty: bool | None = None,
    manager_email: str | None = None,
) -> User:
    """Change name, active flag, admin flag, triage duty or manager (`manager_email`: the
    manager's login email, "" for none, None to leave it). Deactivation ends the user's
    sessions. `actor` None is a system change (the user import run from the command line).

    Raises ValidationError (nothing written) when the change would take the last admin on
    triage duty off it while some ticket could reach nobody else (`triage.py`); triage duty
    is for admins only.
    """
    fields: dict[str, Any] = {"full_name": full_name}
    if manager_email is not None:
        fields["manager"] = _manager(user, manager_email)
    if is_active is not None:
        fields["is_active"] = is_active
    if is_staff is not None:
        fields["is_staff"] = is_staff
    if on_triage_duty is not None:
        fields["on_triage_duty"] = on_triage_duty
    after = {name: fields.get(name, getattr(user, name)) for name in triage.DUTY_FIELDS}
    if after["on_triage_duty"] and not after["is_staff"]:
        raise ValidationError(
            {"on_triage_duty": "Only admins can be on triage duty."}, code="triage_not_admin"
        )
    deactivated = user.is_active and fields.get("is_active") is False
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    with transaction.atomic():
        was_on_duty = triage.on_duty(**{name: getattr(user, name) for name in triage.DUTY_FIELDS})
        if was_on_duty and not triage.on_duty(**after):
            triage.check_leaving_duty(user)
        for name in changed:
            setattr(user, name, fields[name])
        if changed:
            user.save(update_fields=changed)
        if deactivated:
            sessions_end_for_user(user)
            # Apps above (tickets) hand on the open work of the person who left, in this
            # transaction; accounts does not know them.
            user_deactivated.send(sender=User, user=user)
    if {"is_active", "is_staff", "on_triage_duty"} & set(changed):
        security_log.info(
            "user access changed",
            extra={"user_id": user.pk, "actor_id": getattr(actor, "pk", None), "changed": changed},
        )
    return user


def _manager(user: User, email: str) -> User | None:
    """The manager named by `email` (None for ""), refused when unknown, the person
    themself, or one of their own reports down the line (a loop nobody could end)."""
    email = email.strip()
    if not email:
        return None
    manager = User.objects.filter(email__iexact=email).first()
    if manager is None:
        raise ValidationError(
            {"manager": ValidationError(f"Nobody signs in as {email}.", code="unknown")}
        )
    seen: set[int] = set()
    cursor: User | None = manager
    while cursor is not None and cursor.pk not in seen:
        if cursor.pk == user.pk:
            raise ValidationError(
                {"manager": ValidationError("That would make a loop of managers.", code="loop")}
            )
        seen.add(cursor.pk)
        cursor = cursor.manager
    return manager


def user_set_password(
    *,
    user: User,
    password: str | None,
    actor: User | None,
    keep_session_key: str | None = None,
    via: str = "",
) -> int:
    """Set a new password, end every other session of the user and revoke every other
    credential (API tokens): whoever knew the old password may have minted one.

    Used by the user's own change, a reset link and an admin setting a password alike
    (the Django admin site passes no actor; its own change log names them). `None` leaves
    the user without a usable password; `via` names a change that is not the person's
    own choice of password (e.g. "erasure") on the security log. Returns how many
    credentials (tokens) were revoked.
    """
    user.set_password(password)
    return _password_replaced(user, actor=actor, keep_session_key=keep_session_key, via=via)


def user_set_password_hash(*, user: User, password_hash: str, actor: User | None) -> int:
    """Replace the password with an already-hashed one (the user import) and, as any
    password change does, end the user's sessions and revoke their other credentials.
    Returns how many credentials were revoked (0 when the hash is already the user's)."""
    if user.password == password_hash:
        return 0
    user.password = password_hash
    return _password_replaced(user, actor=actor, via="import")


def user_password_replaced(*, user: User, via: str) -> int:
    """After a password was saved past the services (Django's `manage.py changepassword`
    saves it itself): end the user's sessions and revoke their credentials as any password
    change does. Returns how many credentials were revoked."""
    return _password_replaced(user, actor=None, via=via)


def _password_replaced(
    user: User, *, actor: User | None, keep_session_key: str | None = None, via: str = ""
) -> int:
    """Save the password just set on `user`, end their other sessions and revoke their
    credentials, in one transaction; log it. Returns how many credentials were revoked."""
    with transaction.atomic():
        user.save(update_fields=["password"])
        sessions_end_for_user(user, keep_session_key=keep_session_key)
        revoked = sum(revoker(user) for revoker in _credential_revokers)
    extra = {"user_id": user.pk, "actor_id": getattr(actor, "pk", None)}
    extra["credentials_revoked"] = revoked
    if via:
        extra["via"] = via
    security_log.info("password changed", extra=extra)
    return revoked


def user_sign_out_everywhere(*, user: User, reason: str, actor: User | None = None) -> int:
    """End every session of `user` and revoke their credentials (API tokens), in one
    transaction: the company account behind them was disabled or its sign-in revoked at
    the provider. Returns how many credentials were revoked."""
    with transaction.atomic():
        sessions_end_for_user(user)
        revoked = sum(revoker(user) for revoker in _credential_revokers)
    security_log.warning(
        "user signed out everywhere",
        extra={
            "user_id": user.pk,
            "actor_id": getattr(actor, "pk", None),
            "reason": reason,
            "credentials_revoked": revoked,
        },
    )
    return revoked


def user_set_active(*, user: User, active: bool, reason: str) -> User:
    """Activate or deactivate `user` for a provisioning system (SCIM), in one transaction.
    Deactivation is what `user_update` does (sessions end, open work is handed on) plus
    revoking the person's API tokens: a leaver keeps no way in. Raises ValidationError
    like `user_update` (the last admin on triage duty)."""
    with transaction.atomic():
        user_update(user=user, actor=None, full_name=user.full_name, is_active=active)
        if not active:
            user_sign_out_everywhere(user=user, reason=reason)
    return user
