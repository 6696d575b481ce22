"""The admins' webhook screens: who may do what, the form's refusals, the log's queries."""

import pytest

from portal.webhooks import services
from portal.webhooks.models import AllowedHost, Event, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.com/in"


@pytest.fixture
def hook(make_hook):
    return make_hook(URL, events=[Event.TICKET_CREATED])


@pytest.fixture
def failed_delivery(hook):
    from django.utils import timezone

    [row] = services.deliveries_queue(
        hooks=[hook], event=Event.TICKET_CREATED, event_key="e:1", data={}, now=timezone.now()
    )
    WebhookDelivery.objects.filter(pk=row.pk).update(status="failed", last_error="HTTP 404")
    return row


@pytest.fixture
def allowed(personas):
    return AllowedHost.objects.create(host="ci.corp.example")


def actions(hook, failed_delivery, allowed):
    valid = {"name": "Chat", "url": URL, "events": [Event.TICKET_CREATED], "format": "slack"}
    return {
        "list": ("get", "/webhooks", None),
        "new form": ("get", "/webhooks/new", None),
        "create": ("post", "/webhooks/new", valid),
        "detail": ("get", f"/webhooks/{hook.pk}", None),
        "edit": ("post", f"/webhooks/{hook.pk}", {**valid, "is_active": "on"}),
        "rotate secret": ("post", f"/webhooks/{hook.pk}/secret", {}),
        "rotate by GET": ("get", f"/webhooks/{hook.pk}/secret", None),
        "retry": ("post", f"/webhooks/deliveries/{failed_delivery.pk}/retry", {}),
        "allow host": ("post", "/webhooks/hosts", {"host": "hooks.corp.example"}),
        "remove host": ("post", f"/webhooks/hosts/{allowed.pk}/delete", {}),
        "delete": ("post", f"/webhooks/{hook.pk}/delete", {}),
    }


ADMIN = {
    "list": 200,
    "new form": 200,
    "create": 302,
    "detail": 200,
    "edit": 302,
    "rotate secret": 302,
    "rotate by GET": 405,
    "retry": 302,
    "allow host": 302,
    "remove host": 302,
    "delete": 302,
}
EXPECTED = {
    # Webhooks carry every team's tickets out of the portal: admins only.
    **{p: dict.fromkeys(ADMIN, 403) for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "admin": ADMIN,
    "anonymous": dict.fromkeys(ADMIN, 302),
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_webhook_permission_matrix(client_for, personas, hook, failed_delivery, allowed, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    got = {}
    for name, (method, url, data) in actions(hook, failed_delivery, allowed).items():
        got[name] = getattr(client_for(user), method)(url, data or {}).status_code
    assert got == EXPECTED[persona]
    # What the others tried changed nothing.
    if persona != "admin":
        assert list(Webhook.objects.values_list("name", flat=True)) == ["Ops"]
        assert WebhookDelivery.objects.get().status == "failed"
        assert list(AllowedHost.objects.values_list("host", flat=True)) == ["ci.corp.example"]


def test_admin_creates_a_team_hook_and_sees_its_secret(client_for, personas, org):
    response = client_for(personas.admin).post(
        "/webhooks/new",
        {
            "name": "Team A channel",
            "url": "https://example.webhook.office.com/workflows/abc",
            "events": [Event.TICKET_CREATED, Event.TICKET_COMMENTED],
            "format": "teams",
            "team": org.team_a.pk,
        },
    )
    hook = Webhook.objects.get()
    assert response["Location"] == f"/webhooks/{hook.pk}"
    assert (hook.team, hook.format, hook.include_internal) == (org.team_a, "teams", False)
    assert hook.events == [Event.TICKET_COMMENTED, Event.TICKET_CREATED]
    page = client_for(personas.admin).get(response["Location"]).content.decode()
    assert hook.secret in page and hook.secret.startswith("whsec_")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://example.com/x"}, "Only http and https URLs"),
        ({"url": "https://user:pw@example.com/"}, "credentials"),
        ({"events": ["ticket.deleted"]}, "Select a valid choice"),
        ({"events": []}, "This field is required"),
        ({"format": "xml"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(client_for, personas, data, message):
    valid = {"name": "Chat", "url": URL, "events": [Event.TICKET_CREATED], "format": "standard"}
    response = client_for(personas.admin).post("/webhooks/new", {**valid, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Webhook.objects.exists()


def test_a_host_with_a_scheme_or_path_is_not_allow_listed(client_for, personas):
    response = client_for(personas.admin).post("/webhooks/hosts", {"host": "http://x.corp/a"})
    assert response.status_code == 400 and "host name or an IP address only" in response.text
    assert not AllowedHost.objects.exists()


def test_a_delivered_event_is_not_retried(client_for, personas, failed_delivery):
    WebhookDelivery.objects.filter(pk=failed_delivery.pk).update(status="sent")
    response = client_for(personas.admin).post(
        f"/webhooks/deliveries/{failed_delivery.pk}/retry", follow=True
    )
    assert "already delivered" in response.content.decode()
    assert WebhookDelivery.objects.get().status == "sent"


def test_detail_page_queries_do_not_grow_with_the_log(
    client_for, personas, hook, django_assert_num_queries
):
    from django.utils import timezone

    for n in range(40):
        services.deliveries_queue(
            hooks=[hook],
            event=Event.TICKET_CREATED,
            event_key=f"e:{n}",
            data={},
            now=timezone.now(),
        )
    client = client_for(personas.admin)
    # The session with its user; the hook (with its team), the log's count, one page of
    # the log, the teams for the form's choices; the header's roles (SPOC groups, team
    # memberships), unread count and approvals count (the person's first page: not cached
    # yet); the session's refresh (an UPDATE in a savepoint). Page views are written once
    # a minute.
    with django_assert_num_queries(12):
        response = client.get(f"/webhooks/{hook.pk}")
    assert response.content.decode().count("<code>msg_") == 30
