"""Microsoft 365 mailboxes: an OAuth2 access token (msal, client credentials) for IMAP's
XOAUTH2 sign-in; basic authentication is switched off there.

The app registration (tenant, client id, client secret) is granted the
`IMAP.AccessAsApp` application permission, and the mailbox is shared with its service
principal in Exchange Online (docs/email-in.md). The token asked for is
`https://outlook.office365.com/.default`; it lives about an hour.

Caching: the token is kept on the mailbox row (encrypted, with its expiry, shown on the
health page), never in process memory: every worker and every restart reuses it until
RENEW_BEFORE its expiry, then asks for a new one. msal's own cache is per process and not
relied on. Every call to the token endpoint is bounded by INBOUND_IMAP_TIMEOUT, and is
refused while a database transaction is open on the thread (`fetch_token` raises
RuntimeError): a slow identity platform must not hold row locks. Callers fetch first,
then store the token in its own short transaction (`services.mailbox_token_store`).
"""

import datetime as dt

import msal
import requests
from django.conf import settings

from portal.lib.db import refuse_inside_transaction

SCOPES = ["https://outlook.office365.com/.default"]
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/{tenant}"
# A token this close to its expiry is renewed first: a poll must not start with a token
# that runs out between the sign-in and the last FETCH.
RENEW_BEFORE = dt.timedelta(minutes=5)


class TokenRefused(Exception):
    """The identity platform gave no token (a wrong secret, a missing consent, no answer)."""


def authority(mailbox) -> str:
    return (
        mailbox.oauth_authority or DEFAULT_AUTHORITY.format(tenant=mailbox.oauth_tenant)
    ).rstrip("/")


def cached_token(mailbox, *, now: dt.datetime) -> str | None:
    """The stored token while it is good for more than RENEW_BEFORE; else None."""
    expires = mailbox.token_expires_at
    if mailbox.access_token and expires is not None and expires - now > RENEW_BEFORE:
        return mailbox.access_token
    return None


def fetch_token(mailbox, *, now: dt.datetime) -> tuple[str, dt.datetime]:
    """A new token and its expiry from the identity platform (no database work here).
    RuntimeError inside a database transaction: fetch first, then write."""
    refuse_inside_transaction(
        "ask the identity platform for a token",
        "fetch the token first, then store it in a short transaction.",
    )
    timeout = int(getattr(settings, "INBOUND_IMAP_TIMEOUT", 30))
    try:
        app = msal.ConfidentialClientApplication(
            mailbox.oauth_client_id,
            client_credential=mailbox.oauth_client_secret,
            authority=authority(mailbox),
            # A known Entra host needs no discovery; a custom authority is trusted as set.
            instance_discovery=False,
            timeout=timeout,
        )
        result = app.acquire_token_for_client(scopes=SCOPES)
    except (ValueError, requests.RequestException) as exc:  # discovery failed, no answer
        raise TokenRefused(f"{exc.__class__.__name__}: {exc}") from exc
    token = result.get("access_token") if isinstance(result, dict) else None
    if not token:
        error = result.get("error", "no token") if isinstance(result, dict) else "no token"
        description = (
            (result or {}).get("error_description", "") if isinstance(result, dict) else ""
        )
        raise TokenRefused(f"{error}: {description.splitlines()[0] if description else ''}".strip())
    expires_in = int(result.get("expires_in") or 0)
    return token, now + dt.timedelta(seconds=max(expires_in, 0))


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response imap-tools sends (`user=…^Aauth=Bearer …^A^A`)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"
