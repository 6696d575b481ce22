"""What a verified ID token must say before anyone is signed in (no database here).

- The account is the provider's stable subject: Entra ID's `oid` (the same for every
  app of the tenant) when present, else `sub`. Email addresses change and get reused,
  so an email alone never decides who someone is.
- Tenant and domain pins hold for every sign-in: Entra's `tid`, Google Workspace's `hd`.
- A new person (or binding an existing portal account for the first time) needs an email
  the provider vouches for (`email_verified`, or Entra's `xms_edov` with the tenant
  pinned) in one of OIDC_ALLOWED_EMAIL_DOMAINS.
- Roles never come from a bare claim: a person created here is a requester; only the
  admin-edited SsoRoleMapping table turns a group into the admin role (services.py).
"""

from dataclasses import dataclass

from django.conf import settings

from portal.accounts.emails import normalize_email


class SsoRefused(Exception):
    """A sign-in the portal refuses. `code` goes to the security log, `message` to the
    person (it never says more than they can act on)."""

    def __init__(self, code: str, message: str, **detail):
        super().__init__(code)
        self.code = code
        self.message = message
        self.detail = detail


CONTACT = "Ask an administrator of the portal for access."


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str
    full_name: str
    # May this sign-in create a portal user, or bind one by its email?
    may_enrol: bool
    enrol_refusal: str = ""
    # Groups and app roles the token names; None when the provider left them out for
    # being too many (Entra's groups overage) and they could not be looked up.
    groups: frozenset[str] | None = frozenset()


def groups_overage(claims: dict) -> bool:
    """Entra ID sends no `groups` claim past 200 groups, only a pointer to Graph."""
    names = claims.get("_claim_names")
    return (isinstance(names, dict) and "groups" in names) or claims.get("hasgroups") is True


def claimed_groups(claims: dict) -> frozenset[str]:
    values = []
    for name in ("groups", "roles"):
        listed = claims.get(name)
        if isinstance(listed, list):
            values += [str(v) for v in listed if isinstance(v, str | int)]
    return frozenset(values)


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity_from_claims(claims: dict, *, issuer: str) -> Identity:
    tenant_pin = settings.OIDC_ENTRA_TENANT_ID
    if tenant_pin and str(claims.get("tid", "")).lower() != tenant_pin:
        raise SsoRefused(
            "tenant-mismatch",
            "This company account belongs to another organisation. " + CONTACT,
            tid=claims.get("tid"),
        )
    domain_pin = settings.OIDC_GOOGLE_HOSTED_DOMAIN
    if domain_pin and str(claims.get("hd", "")).lower() != domain_pin:
        raise SsoRefused(
            "domain-mismatch",
            "This account is not one of your organisation's accounts. " + CONTACT,
            hd=claims.get("hd"),
        )
    subject = str(claims.get("oid") or claims.get("sub") or "")
    if not subject:
        raise SsoRefused("no-subject", "The sign-in service sent no account id. " + CONTACT)
    email = normalize_email(str(claims.get("email") or ""))
    verified = _true(claims.get("email_verified")) or (
        bool(tenant_pin) and _true(claims.get("xms_edov"))
    )
    domain = email.rpartition("@")[2]
    refusal = ""
    if not email:
        refusal = "no-email"
    elif not verified:
        refusal = "email-unverified"
    elif domain not in settings.OIDC_ALLOWED_EMAIL_DOMAINS:
        refusal = "domain-not-allowed"
    name = str(claims.get("name") or "").strip()
    if not name:
        name = " ".join(
            str(claims.get(part) or "").strip() for part in ("given_name", "family_name")
        ).strip()
    return Identity(
        issuer=issuer,
        subject=subject,
        email=email,
        full_name=(name or email.partition("@")[0])[:150],
        may_enrol=not refusal,
        enrol_refusal=refusal,
        groups=None if groups_overage(claims) else claimed_groups(claims),
    )


ENROL_MESSAGES = {
    "no-email": "The sign-in service sent no email address. " + CONTACT,
    "email-unverified": "Your company email address is not verified. " + CONTACT,
    "domain-not-allowed": "Your email domain cannot sign in to this portal. " + CONTACT,
}
