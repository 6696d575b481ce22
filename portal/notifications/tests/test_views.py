"""The bell, the list, preferences and the admins' delivery log."""

import pytest

from portal.notifications import delivery
from portal.notifications.models import EmailDelivery, EmailPreference, Notification
from portal.notifications.services import notify

pytestmark = pytest.mark.django_db


def tell(user, n=1, link="/dashboard"):
    return notify(
        recipients=[user],
        kind="test_event",
        text=f"Update {n}",
        link=link,
        context={"text": f"Update {n}"},
        event_key=f"e:{n}",
    )


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


def test_bell_shows_the_unread_count_in_one_query(client_for, personas, django_assert_num_queries):
    for n in range(3):
        tell(personas.requester, n)
    client = client_for(personas.requester)
    client.get("/notifications/bell", HTTP_HX_REQUEST="true")
    # session, user, unread count (htmx polls are not page views: nothing else)
    with django_assert_num_queries(3):
        response = client.get("/notifications/bell", HTTP_HX_REQUEST="true")
    assert 'data-testid="unread-count">3<' in response.content.decode()


def test_every_page_header_carries_the_bell(client_for, personas):
    tell(personas.requester)
    html = client_for(personas.requester).get("/dashboard").content.decode()
    assert 'aria-label="Notifications: 1 unread"' in html


def test_list_query_count_does_not_grow_with_notifications(
    client_for, personas, django_assert_num_queries
):
    client = client_for(personas.requester)
    client.get("/notifications")
    for n in range(25):
        tell(personas.requester, n)
    # session, user, roles (2), count for the paginator, the page, unread count,
    # the page-view counter's upsert
    with django_assert_num_queries(8):
        response = client.get("/notifications")
    assert response.content.decode().count('class="notification unread"') == 25


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
    delivery.sweep()
    assert len(smtp_server.received) == 1


def test_template_preview_html_is_sandboxed(client_for, personas):
    response = client_for(personas.admin).get("/notifications/templates/test_event.html")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "Sample body" in response.content.decode()
    assert client_for(personas.admin).get("/notifications/templates/nope.html").status_code == 404
