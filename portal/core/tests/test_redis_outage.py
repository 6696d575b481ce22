"""CACHE_URL's Redis stopped or hung: pages answer from the database, a change that cannot
make its cached copies stale is refused and writes nothing, and the cache comes back by
itself when Redis does. Against a real private Redis server that the tests stop, restart
and replace with a listener that never answers (portal/lib/redis_cache.py)."""

import re
import socket
import tempfile
import time

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from redis.exceptions import RedisError

from portal.catalog.models import Team
from portal.catalog.selectors import WHOLE_TABLE_ROWS as ROWS
from portal.testing.redis import RedisServer
from portal.tickets.services import ticket_create

pytestmark = [pytest.mark.scale]

PAUSE = 0.5  # seconds a process leaves a failed Redis alone (10 in production)


def _caches(url: str, pause: float = PAUSE) -> dict:
    """As settings.py configures CACHE_URL, with a short pause."""
    base = {
        "BACKEND": "portal.lib.redis_cache.DegradingRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "PAUSE_SECONDS": pause},
    }
    return {
        "default": base,
        "versions": {**base, "OPTIONS": {**base["OPTIONS"], "STRICT_WRITES": True}},
    }


@pytest.fixture
def redis(settings):
    server = RedisServer()
    server.start()
    settings.CACHES = _caches(server.url)
    yield server
    server.stop()


def _restart(server: RedisServer) -> None:
    server.dir = tempfile.mkdtemp(prefix="portal-redis-")
    server.start()
    time.sleep(PAUSE)  # the processes' pause after the failure runs out


def _pages(client, ticket) -> None:
    for path in (
        "/dashboard",
        "/tickets",
        f"/tickets?q={ticket.number}",
        ticket.get_absolute_url(),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    assert ticket.title in response.content.decode()


@pytest.mark.django_db
def test_pages_answer_from_the_database_while_redis_is_stopped_and_use_it_again_after(
    redis, client_for, personas, org
):
    ticket = ticket_create(
        requester=personas.requester, title="Projector shows no signal", description="Room 4",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    client = client_for(personas.agent)
    _pages(client, ticket)
    assert redis.client().dbsize() > 0  # the pages cached what they read

    redis.stop()
    _pages(client, ticket)
    assert cache.answering() is False
    with CaptureQueriesContext(connection) as queries:
        _pages(client_for(personas.admin), ticket)
    # Nothing can be kept meanwhile: no whole master table nor every team's members is
    # read for the one row or team a page needs (catalog/selectors.py).
    whole = [
        q["sql"] for q in queries.captured_queries
        if re.search(rf'FROM "catalog_\w+" ORDER BY "catalog_\w+"."id" ASC LIMIT {ROWS}$', q["sql"])
        or ('FROM "catalog_teammember"' in q["sql"] and '"team_id" =' not in q["sql"])
    ]  # fmt: skip
    assert whole == []

    _restart(redis)
    assert cache.answering() is True
    assert redis.client().dbsize() == 0
    _pages(client, ticket)
    assert redis.client().dbsize() > 0  # back in use, no restart of the app


@pytest.mark.django_db(transaction=True)  # the change is a transaction of its own
def test_a_change_that_cannot_make_its_cached_copies_stale_is_refused_and_writes_nothing(
    redis, org
):
    cache.set("warm", 1)
    redis.stop()
    with pytest.raises(RedisError), transaction.atomic():
        org.team_a.name = "Renamed"
        org.team_a.save()  # its save bumps the master data's version: refused
    assert Team.objects.get(pk=org.team_a.pk).name == "Team A"


@pytest.mark.django_db
def test_a_hung_redis_costs_one_timeout_per_pause_not_one_per_read(
    settings, client_for, personas, org
):
    hung = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        settings.CACHES = _caches(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", pause=60)
        client = client_for(personas.agent)
        started = time.monotonic()
        for _ in range(3):
            assert client.get("/tickets").status_code == 200
        # A page reads the cache a dozen times; at one second each that would be half a
        # minute. One timeout for each of the two aliases, then none until the pause ends.
        assert time.monotonic() - started < 10
    finally:
        hung.close()
