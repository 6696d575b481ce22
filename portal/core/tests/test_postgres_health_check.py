"""The connection health check of portal.core.postgres, against a private PostgreSQL
server that the test restarts: a healthy connection used recently is kept without a
round trip, one the server ended is replaced before use, one idle for long is asked
(`SELECT 1`) as Django would, and one with a harmless message waiting is asked and kept."""

import time

import dj_database_url
import pytest
from django.db import connections

from portal.core.postgres.base import QUIET_TRUST_SECONDS, DatabaseWrapper

pytestmark = [pytest.mark.fault]


@pytest.fixture
def wrapper(postgres_cluster, django_db_blocker):
    # A connection of its own to the private server, outside the test database.
    config = dj_database_url.parse(postgres_cluster.new_database(), conn_max_age=600)
    config.update(ENGINE="portal.core.postgres", CONN_HEALTH_CHECKS=True)
    made = DatabaseWrapper(connections.configure_settings({"default": config})["default"])
    with django_db_blocker.unblock():
        yield made
        made.close()


def one(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def next_request(wrapper) -> None:
    """What Django does between requests: the check runs again before the next one."""
    wrapper.close_if_unusable_or_obsolete()
    assert wrapper.health_check_done is False


def test_a_healthy_idle_connection_is_kept_without_asking_the_server(wrapper, monkeypatch):
    assert one(wrapper) == 1
    kept = wrapper.connection
    next_request(wrapper)

    def no_round_trip():
        raise AssertionError("the check asked the server")

    monkeypatch.setattr(wrapper, "is_usable", no_round_trip)
    assert one(wrapper) == 1
    assert wrapper.connection is kept


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(
    wrapper, postgres_cluster
):
    assert one(wrapper) == 1
    ended = wrapper.connection
    next_request(wrapper)
    postgres_cluster.restart()  # pg_ctl restart -m fast: the server ends every connection
    assert one(wrapper) == 1  # no error for the request
    assert wrapper.connection is not ended
    assert ended.closed


def test_a_connection_idle_for_long_is_asked_anyway_a_vanished_server_leaves_no_trace(
    wrapper, monkeypatch
):
    assert one(wrapper) == 1
    next_request(wrapper)
    wrapper.idle_since -= QUIET_TRUST_SECONDS + 1  # handed back longer ago than trusted
    asked = []
    monkeypatch.setattr(wrapper, "is_usable", lambda: asked.append(1) or True)
    assert one(wrapper) == 1
    assert asked == [1]


def test_a_harmless_message_waiting_is_checked_with_the_server_and_the_connection_kept(
    wrapper, postgres_cluster, monkeypatch
):
    with wrapper.cursor() as cursor:
        cursor.execute("LISTEN portal_health")
    kept = wrapper.connection
    name = wrapper.settings_dict["NAME"]
    postgres_cluster.sql("NOTIFY portal_health", database=name)
    # The server sends it to the idle connection as soon as it can: it waits on the socket.
    deadline = time.monotonic() + 10
    while wrapper.socket_is_quiet():
        assert time.monotonic() < deadline, "the notification never arrived"
        time.sleep(0.01)  # polling a condition, not waiting for a guessed duration
    next_request(wrapper)
    asked = []
    usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda: asked.append(1) or usable())
    assert one(wrapper) == 1
    assert asked == [1]  # the server was asked, and answered
    assert wrapper.connection is kept
