"""Writes for company sign-in: binding a company account to a portal user, creating one;
remembering back-channel logout tokens acted on."""

import datetime as dt
import hashlib
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts import services as user_services
from portal.accounts.models import LogoutTokenSeen, SsoIdentity, SsoRoleMapping, User
from portal.accounts.sso.claims import CONTACT, ENROL_MESSAGES, Identity, SsoRefused

security_log = logging.getLogger("portal.security")

DISABLED_MESSAGE = "Your portal account is disabled. " + CONTACT


def sso_identity_sign_in(*, identity: Identity) -> User:
    """The portal user for a verified company identity, binding or creating it if allowed.

    1. Bound before (issuer + subject): that user, whatever email the token now carries.
    2. Not bound, verified email in an allowed domain: the portal user with that email is
       bound (unless they already have another identity of this provider: a reused
       address), or a new requester is created. Never an admin by itself: only a group
       in the admin-edited SsoRoleMapping table gives the admin flag (and takes back what
       it gave).
    Raises SsoRefused (nothing written) otherwise, or when the user is disabled.
    """
    with transaction.atomic():
        link = (
            SsoIdentity.objects.select_related("user")
            .filter(issuer=identity.issuer, subject=identity.subject)
            .first()
        )
        event = "sso sign-in"
        if link is not None:
            user = link.user
        else:
            if not identity.may_enrol:
                raise SsoRefused(
                    identity.enrol_refusal,
                    ENROL_MESSAGES[identity.enrol_refusal],
                    email=identity.email,
                )
            existing = User.objects.filter(email=identity.email).first()
            if existing is None:
                user = user_services.user_create(
                    email=identity.email, full_name=identity.full_name, password=None
                )
                event = "sso user created"
            elif SsoIdentity.objects.filter(user=existing, issuer=identity.issuer).exists():
                # The address now belongs to another company account than the one bound:
                # a reused or renamed mailbox. An admin decides (unbind in Django admin).
                raise SsoRefused(
                    "email-bound-to-other-subject",
                    "This email address is bound to another company account. " + CONTACT,
                    user_id=existing.pk,
                )
            else:
                user, event = existing, "sso identity bound"
            link = SsoIdentity.objects.create(
                user=user,
                issuer=identity.issuer,
                subject=identity.subject,
                email_at_link=identity.email,
            )
        if not user.is_active:
            raise SsoRefused("user-disabled", DISABLED_MESSAGE, user_id=user.pk)
        SsoIdentity.objects.filter(pk=link.pk).update(last_sign_in_at=timezone.now())
        _apply_role_mappings(user=user, link=link, groups=identity.groups)
    security_log.info(
        event, extra={"user_id": user.pk, "issuer": identity.issuer, "subject": identity.subject}
    )
    return user


def _apply_role_mappings(*, user: User, link: SsoIdentity, groups: frozenset[str] | None) -> None:
    """Admin from a mapped group (SsoRoleMapping), and only that admin flag taken away when
    the group is gone. Nothing changes without mappings, when the groups are unknown
    (overage not resolved), or for an admin made by a person."""
    mapped = set(
        SsoRoleMapping.objects.filter(role=SsoRoleMapping.ROLE_ADMIN).values_list(
            "claim_value", flat=True
        )
    )
    if not mapped or groups is None:
        if mapped and groups is None:
            security_log.warning("sso roles unchanged: groups unknown", extra={"user_id": user.pk})
        return
    wants_admin = bool(mapped & groups)
    if wants_admin and not user.is_staff:
        user_services.user_update(user=user, actor=None, full_name=user.full_name, is_staff=True)
        link.admin_granted = True
        link.save(update_fields=["admin_granted"])
        security_log.warning("sso role granted", extra={"user_id": user.pk, "role": "admin"})
    elif not wants_admin and link.admin_granted:
        if user.is_staff:
            try:
                user_services.user_update(
                    user=user,
                    actor=None,
                    full_name=user.full_name,
                    is_staff=False,
                    on_triage_duty=False,
                )
            except ValidationError:
                # The last admin on triage duty while some ticket could reach nobody else.
                security_log.warning(
                    "sso role kept: last admin on triage duty", extra={"user_id": user.pk}
                )
                return
        link.admin_granted = False
        link.save(update_fields=["admin_granted"])
        security_log.warning("sso role removed", extra={"user_id": user.pk, "role": "admin"})


def logout_token_record(*, issuer: str, jti: str, until: dt.datetime) -> bool:
    """Remember a logout token's `jti` until `until`; False when it was seen before (a
    replay). The unique key decides, so two parallel deliveries cannot both pass."""
    key = hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()
    try:
        with transaction.atomic():
            LogoutTokenSeen.objects.create(key=key, expires_at=until)
    except IntegrityError:
        return False
    return True


def logout_tokens_prune() -> int:
    """Forget logout tokens that would be refused by their age anyway."""
    deleted, _ = LogoutTokenSeen.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
