"""The provider's refresh token in the session: encrypted with the portal's secret
encryption, readable across a SECRET_KEY rotation (old key in SECRET_KEY_FALLBACKS), and
still readable from sessions written in the earlier format (a bare Fernet token)."""

import base64
import hashlib

from cryptography.fernet import Fernet

from portal.accounts.sso.refresh_tokens import SESSION_KEY, read_refresh_token, store_refresh_token

TOKEN = "refresh-token-from-the-provider"  # noqa: S105 (a test value)


def _earlier_format(token: str, secret: str) -> str:
    """What the portal stored before it used portal.lib.encryption (its own key derivation,
    no prefix)."""
    digest = hashlib.sha256(b"portal.sso.refresh:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest)).encrypt(token.encode()).decode()


def test_the_token_is_stored_encrypted_and_read_back():
    session: dict = {}
    store_refresh_token(session, TOKEN)
    assert session[SESSION_KEY].startswith("fernet:")
    assert TOKEN not in session[SESSION_KEY]
    assert read_refresh_token(session) == TOKEN


def test_no_token_clears_what_was_stored():
    session: dict = {}
    store_refresh_token(session, TOKEN)
    store_refresh_token(session, None)
    assert SESSION_KEY not in session
    assert read_refresh_token(session) is None


def test_a_session_written_in_the_earlier_format_is_still_read(settings):
    session = {SESSION_KEY: _earlier_format(TOKEN, settings.SECRET_KEY)}
    assert read_refresh_token(session) == TOKEN


def test_a_rotated_secret_key_with_the_old_one_in_the_fallbacks_still_reads_it(settings):
    old_key = settings.SECRET_KEY
    session: dict = {}
    store_refresh_token(session, TOKEN)
    earlier = {SESSION_KEY: _earlier_format(TOKEN, old_key)}
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old_key]
    assert read_refresh_token(session) == TOKEN
    assert read_refresh_token(earlier) == TOKEN
    # Written again, it is under the new key alone.
    store_refresh_token(session, TOKEN)
    settings.SECRET_KEY_FALLBACKS = []
    assert read_refresh_token(session) == TOKEN


def test_without_the_old_key_or_when_tampered_with_it_is_not_read(settings):
    session: dict = {}
    store_refresh_token(session, TOKEN)
    tampered = {SESSION_KEY: session[SESSION_KEY][:-4] + "AAAA"}
    assert read_refresh_token(tampered) is None
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, []
    # The middleware then sends the browser to the provider instead of rechecking.
    assert read_refresh_token(session) is None
