"""CACHE_URL=redis://…: Django's own Redis cache, shared by every app server, and holding
nothing that must be exact. Against a private Redis server; each test flushes it to show a
lost cache loses nothing but time (see tests/test_cache_holds_nothing_exact.py)."""

import os
import subprocess
import sys
import uuid

import pytest
from django.core.cache import caches

from portal.api import ratelimit
from portal.testing.database import ROOT
from portal.testing.personas import PASSWORD
from portal.testing.redis import redis_server  # noqa: F401
from portal.tickets.services import ticket_create

pytestmark = [pytest.mark.scale]


@pytest.fixture
def redis_cache(settings, redis_server):  # noqa: F811
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.lib.redis_cache.DegradingRedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "portal",
        }
    }
    yield redis_server
    caches["default"].clear()


def in_app_server(redis_url: str, code: str) -> str:
    """`code` run by a separate process configured like an app server with CACHE_URL."""
    env = {**os.environ, "CACHE_URL": redis_url}
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def test_two_app_servers_share_one_cache_through_cache_url(redis_server):  # noqa: F811
    setter = (
        "from django.conf import settings; from django.core.cache import cache; "
        "cache.set('shared', 'from server one', 60); print(settings.CACHES['default']['BACKEND'])"
    )
    backend = in_app_server(redis_server.url, setter)
    assert backend == "portal.lib.redis_cache.DegradingRedisCache"
    reader = "from django.core.cache import cache; print(cache.get('shared'))"
    assert in_app_server(redis_server.url, reader) == "from server one"


def test_without_cache_url_each_process_has_its_own_memory_cache():
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "REDIS_URL"}}
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c",
         "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert done.stdout.strip().endswith("locmem.LocMemCache")


def login(client, password="wrong password"):
    return client.post(
        "/login", {"email": "requester@example.com", "password": password}, REMOTE_ADDR="10.0.0.9"
    )


@pytest.mark.django_db
def test_a_lockout_holds_after_the_cache_is_flushed(redis_cache, client, personas):
    for _ in range(5):
        login(client)
    redis_cache.client().flushall()
    assert login(client, PASSWORD).status_code == 429


@pytest.mark.django_db
def test_a_rate_limit_holds_after_the_cache_is_flushed(redis_cache, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    assert ratelimit.hit("user:flush") is None
    assert ratelimit.hit("user:flush") is None
    redis_cache.client().flushall()
    assert ratelimit.hit("user:flush") is not None


@pytest.mark.django_db
def test_an_idempotency_key_holds_after_the_cache_is_flushed(redis_cache, personas, org):
    key = uuid.uuid4()
    fields = dict(
        requester=personas.requester, title="Once", description="-", group=org.group_x,
        category=org.hardware, idempotency_key=key,
    )  # fmt: skip
    first = ticket_create(**fields)
    redis_cache.client().flushall()
    assert ticket_create(**fields).pk == first.pk


@pytest.mark.django_db
def test_a_session_survives_the_cache_being_flushed(redis_cache, client_for, personas):
    client = client_for(personas.requester)
    redis_cache.client().flushall()
    assert client.get("/dashboard").status_code == 200
