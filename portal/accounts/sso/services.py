"""Writes for company sign-in: binding a company account to a portal user, creating one."""

import logging

from django.db import transaction
from django.utils import timezone

from portal.accounts import services as user_services
from portal.accounts.models import SsoIdentity, User
from portal.accounts.sso.claims import CONTACT, ENROL_MESSAGES, Identity, SsoRefused

security_log = logging.getLogger("portal.security")

DISABLED_MESSAGE = "Your portal account is disabled. " + CONTACT


def sso_identity_sign_in(*, identity: Identity) -> User:
    """The portal user for a verified company identity, binding or creating it if allowed.

    1. Bound before (issuer + subject): that user, whatever email the token now carries.
    2. Not bound, verified email in an allowed domain: the portal user with that email is
       bound (unless they already have another identity of this provider: a reused
       address), or a new requester is created. Never an admin: roles are master data.
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
    security_log.info(
        event, extra={"user_id": user.pk, "issuer": identity.issuer, "subject": identity.subject}
    )
    return user
