"""API_RATE_LIMIT_PER_MINUTE per person (all their tokens and their session), counted in
the database: 429 with Retry-After."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from portal.api import ratelimit, tokens
from portal.api.models import ApiRateWindow
from portal.api.tests.conftest import ApiClient, is_problem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mid_minute(monkeypatch):
    """The limiter's clock stands still half-way through a minute: a run that crossed a
    window boundary between two requests would otherwise start a fresh count (a flake)."""
    now = timezone.now().replace(second=30, microsecond=0)
    monkeypatch.setattr(ratelimit, "timezone", SimpleNamespace(now=lambda: now))
    return now


def test_requests_over_the_limit_are_429_with_retry_after(personas, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = ApiClient(tokens.token_create(user=personas.agent, name="s").secret)
    for _ in range(3):
        assert client.get("/notifications/unread-count").status_code == 200
    refused = client.get("/notifications/unread-count")
    body = is_problem(refused, 429)
    assert body["type"] == "urn:portal:problem:rate-limited"
    assert int(refused["Retry-After"]) == 30  # the rest of the minute
    # Another person has their own count.
    other = ApiClient(tokens.token_create(user=personas.lead, name="t").secret)
    assert other.get("/notifications/unread-count").status_code == 200


def test_the_limit_counts_per_person_across_all_their_tokens_and_their_session(
    personas, settings, client_for
):
    settings.API_RATE_LIMIT_PER_MINUTE = 10
    fresh = [
        ApiClient(tokens.token_create(user=personas.agent, name=f"t{n}").secret) for n in range(3)
    ]
    answers = [c.get("/notifications/unread-count").status_code for c in fresh for _ in range(3)]
    assert answers == [200] * 9
    session = client_for(personas.agent)
    assert session.get("/api/v1/notifications/unread-count").status_code == 200  # the 10th
    is_problem(session.get("/api/v1/notifications/unread-count"), 429)
    is_problem(fresh[0].get("/notifications/unread-count"), 429)
    brand_new = ApiClient(tokens.token_create(user=personas.agent, name="more").secret)
    is_problem(brand_new.get("/notifications/unread-count"), 429)


def test_a_new_window_starts_a_new_count(personas, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    start = dt.datetime(2026, 1, 1, 12, 0, 30, tzinfo=dt.UTC)
    assert ratelimit.hit("user:1", now=start) is None
    assert ratelimit.hit("user:1", now=start) is None
    assert ratelimit.hit("user:1", now=start) == 30
    assert ratelimit.hit("user:1", now=start + dt.timedelta(seconds=30)) is None
    assert ApiRateWindow.objects.get(key="user:1", window_start=start.replace(second=0)).count == 3
    assert ratelimit.prune(now=start + dt.timedelta(minutes=5)) == 2


def test_the_periodic_task_prunes_ended_windows():
    from portal.api.tasks import prune_rate_windows

    ApiRateWindow.objects.create(
        key="user:9", window_start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), count=5
    )
    assert prune_rate_windows.call() == 1
    assert not ApiRateWindow.objects.exists()
