"""The provider's refresh token, kept encrypted in the server-side session.

With it the portal asks the provider every OIDC_RECHECK_MINUTES whether the account may
still sign in, without sending the browser anywhere. It is encrypted (Fernet, a key
derived from SECRET_KEY) so that a copy of the session table alone does not hand out
working refresh tokens.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

SESSION_KEY = "_sso_refresh"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"portal.sso.refresh:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def store_refresh_token(session, token: str | None) -> None:
    if token:
        session[SESSION_KEY] = _fernet().encrypt(token.encode()).decode()
    else:
        session.pop(SESSION_KEY, None)


def read_refresh_token(session) -> str | None:
    stored = session.get(SESSION_KEY)
    if not stored:
        return None
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None  # SECRET_KEY changed: fall back to the browser round trip
