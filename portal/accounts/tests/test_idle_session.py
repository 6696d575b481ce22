"""The idle timeout slides with use, but a page view writes the session at most once per
IdleSessionMiddleware.REFRESH_EVERY_SECONDS: reading pages costs no session UPDATE."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.accounts import middleware

pytestmark = pytest.mark.django_db


def _session_writes(client, path="/dashboard") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum('UPDATE "django_session"' in q["sql"] for q in queries.captured_queries)


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_pages_read_within_a_minute_do_not_write_the_session(client_for, personas):
    client = client_for(personas.requester)
    client.get("/dashboard")  # the first page stamps the session
    assert _session_writes(client) == 0
    assert _session_writes(client, "/tickets") == 0


def test_a_page_after_the_refresh_interval_extends_the_idle_timeout(
    client_for, personas, monkeypatch, settings
):
    client = client_for(personas.requester)
    client.get("/dashboard")
    # Ten minutes left of the idle timeout, and the last stamp a refresh interval ago.
    soon = timezone.now() + dt.timedelta(minutes=10)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=soon)
    later = client.session[middleware._KEY] + middleware.REFRESH_EVERY_SECONDS
    monkeypatch.setattr(middleware, "_now", lambda: later)
    assert _session_writes(client) == 1
    assert client.session[middleware._KEY] == later
    # The whole idle timeout again from this page, not the ten minutes that were left.
    timeout = dt.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    assert _expiry(client) > timezone.now() + timeout - dt.timedelta(minutes=1)


def test_a_session_idle_past_the_timeout_is_signed_out(client_for, personas):
    # What the sliding expiry is for (the expiry itself is Django's session check).
    client = client_for(personas.requester)
    client.get("/dashboard")
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
