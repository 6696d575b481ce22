"""Senders with no account: who may get one made by email (a mailbox set to "create").

Only the domains an admin listed on the mailbox, matched exactly (a subdomain is another
organisation's business). The From address is trusted as the receiving server delivered
it, so an account made this way has no password: it can raise and follow tickets by
email, and signs in through "forgot password" or single sign-on like any new account.
"""

import re

from django.core.exceptions import ValidationError

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def parse_domains(text: str) -> list[str]:
    """`example.com, @Example.org` → ["example.com", "example.org"]; a word that is not a
    domain is refused (ValidationError naming it)."""
    domains: list[str] = []
    for word in re.split(r"[\s,;]+", text or ""):
        domain = word.strip().lstrip("@").lower()
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise ValidationError(f"{word!r} is not a domain name.", code="invalid")
        if domain not in domains:
            domains.append(domain)
    return domains


def domain_allowed(mailbox, address: str) -> bool:
    """Whether a sender with no account gets one from this mailbox."""
    if mailbox.unknown_senders != mailbox.UnknownSenders.CREATE:
        return False
    _, _, domain = address.rpartition("@")
    try:
        return bool(domain) and domain.lower() in parse_domains(mailbox.allowed_domains)
    except ValidationError:
        return False
