"""Fixtures shared by every test: personas and signed-in clients."""

import tempfile
from pathlib import Path

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


# The cache versions' files (settings: without CACHE_URL) are this test process's own: a
# bump by a test in another xdist worker would otherwise empty this one's warm caches in
# the middle of a pinned query count.
if "versions" in settings.CACHES:
    settings.CACHES["versions"]["LOCATION"] = str(
        Path(tempfile.mkdtemp(prefix="portal-test-")) / "cache" / "versions"
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: roles, bell counts and filter options cached
    by an earlier test (whose rows were rolled back, their ids perhaps reused) never leak."""
    from django.core.cache import caches

    def clear() -> None:
        for alias in settings.CACHES:
            caches[alias].clear()

    clear()
    yield
    clear()


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
