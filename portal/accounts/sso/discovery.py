"""The provider's endpoints and signing keys, from its discovery document.

Both documents are public and change rarely, so they are cached (Django's cache, per
process by default); every fetch has the OIDC_TIMEOUT bound. A failure raises
`ProviderUnavailable`, which the views turn into a clear message.
"""

from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache

WELL_KNOWN = "/.well-known/openid-configuration"
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(Exception):
    """The provider did not answer (in time) or answered nonsense."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"{url}: {error.__class__.__name__}") from error
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return document


def provider() -> Provider:
    """The configured issuer's endpoints (cached for OIDC_DISCOVERY_CACHE_SECONDS)."""
    issuer = settings.OIDC_ISSUER
    key = f"sso:discovery:{issuer}"
    document = cache.get(key)
    if document is None:
        document = _get_json(issuer + WELL_KNOWN)
        missing = [name for name in REQUIRED if not document.get(name)]
        if missing:
            raise ProviderUnavailable(f"discovery document lacks {', '.join(missing)}")
        # OpenID Connect Discovery §4.3: the document must name the issuer it came from,
        # or tokens "from" it could be anyone's.
        if document["issuer"].rstrip("/") != issuer:
            raise ProviderUnavailable(
                f"discovery document names issuer {document['issuer']!r}, not {issuer!r}"
            )
        cache.set(key, document, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=document.get("userinfo_endpoint") or "",
        end_session_endpoint=document.get("end_session_endpoint") or "",
    )


def signing_keys(*, refresh: bool = False) -> list[dict]:
    """The provider's public keys (JWKS). `refresh` fetches them again: a token signed
    with a key id we have not seen means the provider rotated its keys. ID tokens only
    ever come from the token endpoint over the back channel, so an unknown key id cannot
    be used by outsiders to make us fetch again and again."""
    key = f"sso:jwks:{settings.OIDC_ISSUER}"
    keys = None if refresh else cache.get(key)
    if keys is None:
        document = _get_json(provider().jwks_uri)
        keys = [k for k in document.get("keys", []) if isinstance(k, dict)]
        cache.set(key, keys, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return keys
