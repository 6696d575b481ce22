"""The provider's refresh token, kept encrypted in the server-side session.

With it the portal asks the provider every OIDC_RECHECK_MINUTES whether the account may
still sign in, without sending the browser anywhere. It is encrypted with the portal's
secret encryption (`portal.lib.encryption`, purpose `portal.sso.refresh`) so that a copy of
the session table alone does not hand out working refresh tokens; a SECRET_KEY rotation
with the old key in SECRET_KEY_FALLBACKS keeps signed-in sessions rechecking.

Sessions written before this module used `portal.lib.encryption` hold the bare Fernet
token (no `fernet:` prefix), under the very same key (SHA-256 of the purpose, a colon and
the secret): it is read as such. Such sessions end within SESSION_COOKIE_AGE; after that
the compatibility branch in `read_refresh_token` can go.
"""

from portal.lib import encryption

SESSION_KEY = "_sso_refresh"
PURPOSE = "portal.sso.refresh"


def store_refresh_token(session, token: str | None) -> None:
    if token:
        session[SESSION_KEY] = encryption.encrypt(token, purpose=PURPOSE)
    else:
        session.pop(SESSION_KEY, None)


def read_refresh_token(session) -> str | None:
    stored = session.get(SESSION_KEY)
    if not stored:
        return None
    if not stored.startswith(encryption.PREFIX):
        # Written before the prefix (never a plain token): the same key opens it.
        stored = encryption.PREFIX + stored
    try:
        return encryption.decrypt(stored, purpose=PURPOSE) or None
    except encryption.Undecryptable:
        return None  # no key opens it: fall back to the browser round trip
