"""Usage tracking: page views per section per day, counted in the cache and written in
one statement at most once a minute, no personal data, never fatal."""

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from portal.analytics import tracking
from portal.analytics.models import PageView

pytestmark = pytest.mark.django_db


def counts() -> dict:
    """What the database holds once the cached counts are written."""
    tracking.flush_page_views()
    return {(p.day, p.section): p.views for p in PageView.objects.all()}


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/dashboard", "dashboard"),
        ("/tickets/TKT-000123", "tickets"),
        ("/analytics", "analytics"),
        ("/masters/groups", "masters"),
        ("/sla/calendars/3", "sla"),
        ("/wp-admin.php", "other"),
        ("/", "other"),
        ("/tickets-secret", "other"),
    ],
)
def test_the_section_is_the_first_path_segment_from_the_allow_list(path, section):
    assert tracking.section_for(path) == section


def test_views_are_counted_per_section_and_day(personas, org, client_for):
    client = client_for(personas.agent)
    for _ in range(3):
        client.get("/dashboard")
    client.get("/tickets")
    client.get("/tickets/TKT-000999")  # 404: not a page view
    today = timezone.localdate()
    assert counts() == {(today, "dashboard"): 3, (today, "tickets"): 1}


def test_nothing_personal_is_stored(personas, org, client_for):
    client_for(personas.agent).get(
        "/tickets", {"q": "my secret"}, HTTP_USER_AGENT="Secret/1.0", REMOTE_ADDR="10.9.8.7"
    )
    # The table has exactly these columns: a day, a section from the allow-list, a count.
    assert [f.name for f in PageView._meta.get_fields()] == ["id", "day", "section", "views"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM analytics_pageview")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for personal in ("agent", "secret", "Secret", "10.9.8.7", str(personas.agent.pk) + " "):
        assert personal not in stored


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("post", "/dashboard", {}),
        ("get", "/healthz", {}),
        ("get", "/static/css/portal.css", {}),
        ("get", "/tickets", {"HTTP_HX_REQUEST": "true"}),
    ],
)
def test_posts_health_checks_static_files_and_partials_are_not_counted(
    method, path, headers, personas, org, client_for
):
    getattr(client_for(personas.agent), method)(path, **headers)
    assert counts() == {}


def test_counting_a_view_costs_no_query_and_a_flush_one_for_all_sections(
    personas, org, client_for, django_assert_num_queries
):
    with django_assert_num_queries(0):  # a counter in the cache
        tracking.record_page_view("dashboard")
        tracking.record_page_view("dashboard")
        tracking.record_page_view("tickets")
    with django_assert_num_queries(1):  # INSERT … VALUES (…), (…) ON CONFLICT DO UPDATE
        tracking.flush_page_views()
    with django_assert_num_queries(0):  # nothing new to write
        tracking.flush_page_views()
    tracking.record_page_view("dashboard")
    today = timezone.localdate()
    assert counts() == {(today, "dashboard"): 3, (today, "tickets"): 1}


def test_a_request_writes_the_counts_once_they_have_waited_a_minute(personas, org, client_for):
    client = client_for(personas.agent)
    client.get("/dashboard")
    assert not PageView.objects.exists()  # waiting in the cache
    cache.set(tracking._FLUSH_DUE, time.time() - 1)  # the minute is up
    client.get("/dashboard")
    assert {(p.section, p.views) for p in PageView.objects.all()} == {("dashboard", 2)}


def test_anonymous_visitors_are_counted_on_the_login_page(client):
    assert client.get("/login").status_code == 200
    assert counts() == {(timezone.localdate(), "login"): 1}


def test_yesterdays_counter_is_left_alone(personas, org, client_for):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    PageView.objects.create(day=yesterday, section="dashboard", views=7)
    client_for(personas.agent).get("/dashboard")
    assert counts() == {(yesterday, "dashboard"): 7, (timezone.localdate(), "dashboard"): 1}


@pytest.mark.django_db(transaction=True)
def test_a_failing_counter_does_not_break_the_page(personas, org, client_for, caplog, monkeypatch):
    """The table is gone (say a migration was not applied): the page is still served, and
    the counts wait in the cache for the next write.

    transaction=True: like production, the middleware runs in autocommit, outside any
    transaction the failure could spoil.
    """
    monkeypatch.setattr(tracking, "FLUSH_SECONDS", 0)  # every request writes
    with connection.schema_editor() as editor:
        editor.delete_model(PageView)
    try:
        response = client_for(personas.agent).get("/dashboard")
        assert response.status_code == 200
        assert "page view not counted" in caplog.text
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(PageView)
    assert counts() == {(timezone.localdate(), "dashboard"): 1}


def test_an_unexpected_error_in_the_counter_does_not_break_the_page(
    personas, org, client_for, monkeypatch
):
    def explode(section):
        raise RuntimeError("boom")

    monkeypatch.setattr(tracking, "record_page_view", explode)
    assert client_for(personas.agent).get("/dashboard").status_code == 200
