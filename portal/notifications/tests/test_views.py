"""The bell, the list, preferences and the admins' delivery log."""

import base64
import datetime as dt
import json
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.notifications import delivery
from portal.notifications.models import EmailDelivery, EmailPreference, Notification
from portal.notifications.services import notify
from portal.notifications.views import PER_PAGE
from portal.testing.notices import deliver_pending

pytestmark = pytest.mark.django_db


def tell(user, n=1, link="/dashboard"):
    notify(
        recipients=[user],
        kind="test_event",
        text=f"Update {n}",
        link=link,
        context={"text": f"Update {n}"},
        event_key=f"e:{n}",
    )
    deliver_pending()  # what the worker does within seconds


@pytest.fixture
def a_notification(personas):
    tell(personas.requester)
    return Notification.objects.get(recipient=personas.requester)


@pytest.fixture
def a_failed_delivery(personas):
    tell(personas.agent, n=2)
    agents = EmailDelivery.objects.filter(to_address=personas.agent.email)
    agents.update(status=EmailDelivery.Status.FAILED, last_error="550 no such user")
    return agents.get()


def actions(a_notification, a_failed_delivery):
    n, d = a_notification.pk, a_failed_delivery.pk
    return {
        "list": ("get", "/notifications", None),
        "bell": ("get", "/notifications/bell", None),
        "mark read": ("post", f"/notifications/{n}/read", {}),
        "mark read by GET": ("get", f"/notifications/{n}/read", None),
        "mark all read": ("post", "/notifications/read-all", {}),
        "preferences": ("get", "/notifications/preferences", None),
        "save preferences": ("post", "/notifications/preferences", {"test_event": ""}),
        "delivery log": ("get", "/notifications/deliveries", None),
        "retry": ("post", f"/notifications/deliveries/{d}/retry", {}),
        "template previews": ("get", "/notifications/templates", None),
        "template html": ("get", "/notifications/templates/test_event.html", None),
    }


OWN = {
    "list": 200,
    "bell": 200,
    "mark all read": 302,
    "preferences": 200,
    "save preferences": 302,
    "mark read by GET": 405,
}
ADMIN_ONLY = {"delivery log": 200, "retry": 302, "template previews": 200, "template html": 200}
EXPECTED = {
    # The notification belongs to the requester: anyone else gets 404 for it.
    "requester": {**OWN, "mark read": 302, **{k: 403 for k in ADMIN_ONLY}},
    **{
        p: {**OWN, "mark read": 404, **{k: 403 for k in ADMIN_ONLY}}
        for p in ["agent", "lead", "spoc", "outsider"]
    },
    "admin": {**OWN, "mark read": 404, **ADMIN_ONLY},
    "anonymous": {k: 302 for k in [*OWN, "mark read", *ADMIN_ONLY]},
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_notification_permission_matrix(
    client_for, personas, a_notification, a_failed_delivery, persona
):
    user = None if persona == "anonymous" else getattr(personas, persona)
    got = {}
    for name, (method, url, data) in actions(a_notification, a_failed_delivery).items():
        got[name] = getattr(client_for(user), method)(url, data or {}).status_code
    assert got == EXPECTED[persona]
    a_notification.refresh_from_db()
    assert (a_notification.read_at is not None) == (persona == "requester")
    a_failed_delivery.refresh_from_db()
    assert (a_failed_delivery.status == "queued") == (persona == "admin")


def test_bell_shows_the_unread_count_in_one_query_then_from_the_cache(
    client_for, personas, django_assert_num_queries
):
    for n in range(3):
        tell(personas.requester, n)
    client = client_for(personas.requester)
    client.get("/notifications")  # refreshes the session once
    cache.clear()
    # the session with its user (one statement), the unread count (htmx polls are not
    # page views: nothing else)
    with django_assert_num_queries(2):
        client.get("/notifications/bell", HTTP_HX_REQUEST="true")
    # the next poll: the session with its user; the count comes from the cache
    with django_assert_num_queries(1):
        response = client.get("/notifications/bell", HTTP_HX_REQUEST="true")
    assert 'data-testid="unread-count">3<' in response.content.decode()


def test_every_page_header_carries_the_bell(client_for, personas):
    tell(personas.requester)
    html = client_for(personas.requester).get("/dashboard").content.decode()
    assert 'aria-label="Notifications: 1 unread"' in html


def many(user, count, *, start, read_every=0):
    """`count` notifications for `user`, newest last; every third shares its neighbour's
    created_at, so ties are decided by id as the list's order says."""
    rows = []
    for n in range(count):
        at = start + dt.timedelta(minutes=n - n % 3 // 2)
        read = timezone.now() if read_every and n % read_every == 0 else None
        rows.append(Notification(recipient=user, kind="test_event", text=f"N{n}", link="/",
                                 created_at=at, read_at=read))  # fmt: skip
    Notification.objects.bulk_create(rows)


ROW = re.compile(
    r'<li class="notification[^"]*">\s*<form method="post" action="/notifications/(\d+)/read"'
)
LINK = {
    "older": re.compile(r'<a href="\?([^"]*)" rel="next">Older'),
    "newer": re.compile(r'<a href="\?([^"]*)" rel="prev">← Newer'),
}


def walk(client, query, direction):
    """Follow the Older (or Newer) links from `query`: the ids of each page, in order."""
    pages = []
    while True:
        response = client.get(f"/notifications?{query}")
        assert response.status_code == 200
        html = response.content.decode()
        pages.append([int(pk) for pk in ROW.findall(html)])
        link = LINK[direction].search(html)
        if not link:
            return pages, html
        query = link.group(1).replace("&amp;", "&")


def newest_first(queryset):
    return list(queryset.order_by("-created_at", "-id").values_list("id", flat=True))


def test_older_and_newer_links_cover_every_notification_once_in_order(client_for, personas):
    start = timezone.now() - dt.timedelta(days=3)
    many(personas.requester, 2 * PER_PAGE + 5, start=start)
    many(personas.agent, 10, start=start)  # someone else's: never shown
    expected = newest_first(Notification.objects.filter(recipient=personas.requester))
    client = client_for(personas.requester)

    pages, last = walk(client, "", "older")

    assert [len(p) for p in pages] == [PER_PAGE, PER_PAGE, 5]
    assert [pk for page in pages for pk in page] == expected
    assert "Newer" in last and "Older" not in last
    # Back from the last page with "Newer": the same pages, newest page last.
    newer_query = LINK["newer"].search(last).group(1).replace("&amp;", "&")
    back, first = walk(client, newer_query, "newer")
    assert back == pages[-2::-1]
    assert "Newer" not in first and "Older" in first


def test_a_single_page_has_no_page_links(client_for, personas):
    many(personas.requester, 3, start=timezone.now() - dt.timedelta(hours=1))
    html = client_for(personas.requester).get("/notifications").content.decode()
    assert len(ROW.findall(html)) == 3
    assert 'class="pagination"' not in html


def test_unread_only_pages_through_unread_notifications_and_keeps_the_filter(client_for, personas):
    many(personas.requester, 2 * PER_PAGE + 30, start=timezone.now() - dt.timedelta(days=1),
         read_every=3)  # fmt: skip
    unread = Notification.objects.filter(recipient=personas.requester, read_at__isnull=True)
    assert unread.count() > PER_PAGE

    pages, _ = walk(client_for(personas.requester), "show=unread", "older")

    assert len(pages) > 1
    assert [pk for page in pages for pk in page] == newest_first(unread)


def cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "after=not-a-cursor!!",
        "before=%25%25%25",
        "after=" + cursor(["2026-01-01T00:00:00+00:00"]),  # one value, the order has two
        "after=" + cursor(["2026-01-01T00:00:00", 5]),  # no time zone
        "before=" + cursor(["yesterday", 5]),
        "after=" + cursor(["2026-01-01T00:00:00+00:00", "5; drop table"]),
        "show=unread&after=" + cursor(["2026-01-01T00:00:00+00:00", 2**70]),
        "after=" + cursor({"created_at": 1}),
    ],
)
def test_a_tampered_page_link_is_a_clear_400(client_for, personas, query):
    many(personas.requester, 3, start=timezone.now() - dt.timedelta(hours=1))
    response = client_for(personas.requester).get(f"/notifications?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "page link" in html
    assert not ROW.findall(html)


@pytest.mark.parametrize("page", ["first", "older", "newer"])
def test_list_query_count_does_not_grow_with_notifications(
    client_for, personas, django_assert_num_queries, page
):
    client = client_for(personas.requester)
    client.get("/notifications")
    start = timezone.now() - dt.timedelta(days=1)
    for count in (3, 4 * PER_PAGE):
        Notification.objects.all().delete()
        many(personas.requester, count, start=start)
        middle = Notification.objects.order_by("-created_at", "-id")[count // 2]
        position = cursor([middle.created_at.isoformat(), middle.pk])
        query = {"first": "", "older": f"after={position}", "newer": f"before={position}"}[page]
        # the session with its user, the page (one row more than shown: is there another
        # page?); roles and the unread count from the cache, page views written once a
        # minute. No COUNT of the list.
        with django_assert_num_queries(2) as captured:
            response = client.get(f"/notifications?{query}")
        # A page after a cursor bounds created_at too, so it is an index range from the
        # cursor on rather than a filter over every row in front of it.
        bound = {"first": None, "older": '"created_at" <=', "newer": '"created_at" >='}[page]
        page_sql = [
            q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]
        ]
        assert not bound or any(bound in sql and "LIMIT 31" in sql for sql in page_sql)
        shown = len(ROW.findall(response.content.decode()))
        assert shown == (min(count, PER_PAGE) if page == "first" else min(count // 2, PER_PAGE))


def test_opening_a_notification_marks_it_read_and_goes_to_its_link(client_for, personas):
    tell(personas.requester, link="/settings")
    notification = Notification.objects.get()
    response = client_for(personas.requester).post(
        f"/notifications/{notification.pk}/read", {"open": "1"}
    )
    assert response["Location"] == "/settings"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_all_read_touches_only_own_notifications(client_for, personas):
    tell(personas.requester, 1)
    tell(personas.agent, 2)
    client_for(personas.requester).post("/notifications/read-all")
    assert Notification.objects.get(recipient=personas.agent).read_at is None
    assert Notification.objects.get(recipient=personas.requester).read_at is not None


def test_preferences_page_saves_email_choices(client_for, personas):
    client = client_for(personas.requester)
    assert 'name="test_event"' in client.get("/notifications/preferences").content.decode()
    client.post("/notifications/preferences", {})
    assert EmailPreference.objects.get(user=personas.requester, kind="test_event").email is False
    client.post("/notifications/preferences", {"test_event": "on"})
    assert EmailPreference.objects.get(user=personas.requester, kind="test_event").email is True


def test_delivery_log_filters_by_an_allowed_status_only(client_for, personas, a_failed_delivery):
    client = client_for(personas.admin)
    assert (
        "550 no such user" in client.get("/notifications/deliveries?status=failed").content.decode()
    )
    assert (
        "550 no such user"
        not in client.get("/notifications/deliveries?status=sent").content.decode()
    )
    # An unknown status is ignored, not passed to the database.
    assert client.get("/notifications/deliveries?status=drop table").status_code == 200


def test_admin_retry_sends_a_failed_message(client_for, personas, a_failed_delivery, smtp_server):
    client_for(personas.admin).post(f"/notifications/deliveries/{a_failed_delivery.pk}/retry")
    deliver_pending()
    delivery.sweep()
    assert len(smtp_server.messages_to("agent@example.com")) == 1


def test_a_sent_message_is_not_sent_again_by_retry(client_for, personas, smtp_server):
    tell(personas.agent, n=3)
    delivery.sweep()
    sent = EmailDelivery.objects.get()
    response = client_for(personas.admin).post(
        f"/notifications/deliveries/{sent.pk}/retry", follow=True
    )
    assert "already sent" in response.content.decode()
    deliver_pending()
    delivery.sweep()
    assert len(smtp_server.received) == 1


def test_template_preview_html_is_sandboxed(client_for, personas):
    response = client_for(personas.admin).get("/notifications/templates/test_event.html")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "Sample body" in response.content.decode()
    assert client_for(personas.admin).get("/notifications/templates/nope.html").status_code == 404
