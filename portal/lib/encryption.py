"""Secrets the portal must store and use again (a mailbox password, an OAuth2 client
secret or token), encrypted at rest so a copy of the database alone hands out nothing.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with a key derived from
SECRET_KEY and a purpose string: each kind of secret has its own key, and nothing else
signed with SECRET_KEY can be turned into one of these. Stored values start with
`fernet:` so a plain value written before encryption existed is still read (and
re-encrypted on the next save, or by `manage.py reencrypt_secrets`).

Key rotation: put the old key in SECRET_KEY_FALLBACKS and the new one in SECRET_KEY.
Values are read with every key (MultiFernet), written with the new one; run
`manage.py reencrypt_secrets` once, then drop the old key from the fallbacks.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class Undecryptable(ImproperlyConfigured):
    """No key opens a stored value: SECRET_KEY changed without the old one in the
    fallbacks (or the value was tampered with)."""


def _key(purpose: str, secret: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet(purpose: str) -> MultiFernet:
    """The current key first (it encrypts), then the fallbacks (they only decrypt)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_key(purpose, secret) for secret in secrets])


def encrypt(text: str, *, purpose: str) -> str:
    if not text:
        return ""
    return PREFIX + _fernet(purpose).encrypt(text.encode()).decode()


def decrypt(stored: str, *, purpose: str) -> str:
    """The plain text; a value without the prefix is a plain one stored before encryption.
    Undecryptable (an ImproperlyConfigured) when no key opens it (SECRET_KEY changed
    without a fallback)."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        return _fernet(purpose).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise Undecryptable(
            f"A stored {purpose} cannot be decrypted: SECRET_KEY changed and the old key is "
            "not in SECRET_KEY_FALLBACKS. Put it back there, or enter the secret again."
        ) from None


def rotate(stored: str, *, purpose: str) -> str:
    """The value encrypted with the current key (plain values are encrypted)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored, purpose=purpose)
    return PREFIX + _fernet(purpose).rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plain text.

    Not searchable or comparable in SQL (each encryption differs), so use it only for
    secrets that are read back whole."""

    def __init__(self, *args, purpose: str, **kwargs):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value, purpose=self.purpose) if value else value
