"""Fixtures shared by every test: personas and signed-in clients."""

import pytest
from django.conf import settings
from django.test import Client

from portal.testing.personas import Personas, make_personas

# Browser fixtures (`browser`, `page_for`) for tests marked `browser`; `smtp_server` (a real
# SMTP server on loopback); the S3 fixtures (moto's standalone server on loopback);
# `imap_server` (a real IMAP server on loopback: pymap).
pytest_plugins = [
    "portal.testing.browser",
    "portal.testing.smtp",
    "portal.testing.s3",
    "portal.testing.oidc",  # `oidc_provider`: a real OpenID provider on loopback
    "portal.testing.imap",
]

# Real hashers cost ~100 ms per login; tests use a fast one first. The others stay
# listed so legacy (bcrypt) and Argon2 hashes are still verified and upgraded.
settings.PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *settings.PASSWORD_HASHERS,
]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: roles, bell counts and filter options cached
    by an earlier test (whose rows were rolled back, their ids perhaps reused) never leak."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


@pytest.fixture
def client_for():
    """`client_for(user)` returns a Client signed in as that user (None: anonymous)."""

    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def org(personas):
    """Group X / team A around the personas (see portal/testing/org.py)."""
    from portal.testing.org import make_org

    return make_org(personas)
