"""/api/v1/webhooks: admins manage hooks and their delivery log through the same services
as the /webhooks screens; everyone else is refused."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.webhooks import services
from portal.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
URL = "https://hooks.example.com/portal"
NEW = {"name": "N", "url": URL, "events": ["ticket.created"]}
ADMIN_ONLY = {p: 403 for p in PERSONAS} | {"admin": None, "anonymous": 401}


@pytest.fixture
def hook(personas):
    return services.webhook_create(
        actor=personas.admin, name="Ops", url=URL, events=["ticket.created"]
    )


def _delivery(hook, status, n=1):
    return WebhookDelivery.objects.create(
        webhook=hook, event="ticket.created", event_key=f"k{n}", message_id=f"msg_{n:04d}",
        body="{}", status=status, last_error="HTTP 500" if status == Status.FAILED else "",
    )  # fmt: skip


def _calls(hook, delivery):
    return {
        "list": ("get", "/webhooks", None, 200),
        "create": ("post", "/webhooks", NEW, 201),
        "detail": ("get", f"/webhooks/{hook.pk}", None, 200),
        "update": ("patch", f"/webhooks/{hook.pk}", {"name": "Renamed"}, 200),
        "deliveries": ("get", f"/webhooks/{hook.pk}/deliveries", None, 200),
        "retry": ("post", f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/retry", None, 200),
        "delete": ("delete", f"/webhooks/{hook.pk}", None, 204),
    }  # fmt: skip


@pytest.mark.parametrize("action", ["list", "create", "detail", "update", "deliveries", "retry",
                                    "delete"])  # fmt: skip
@pytest.mark.parametrize("persona", PERSONAS)
def test_webhooks_api_permission_matrix(persona, action, personas, api_for, hook):
    delivery = _delivery(hook, Status.FAILED)
    method, path, body, ok = _calls(hook, delivery)[action]
    client = api_for(persona_user(personas, persona))
    args = (path, body) if method in ("post", "patch") else (path,)
    response = getattr(client, method)(*args)
    expected = ADMIN_ONLY[persona] or ok
    assert response.status_code == expected, response.content
    if expected >= 400:
        is_problem(response, expected)
        hook.refresh_from_db()
        assert hook.name == "Ops" and Webhook.objects.count() == 1  # nothing changed


def test_create_returns_the_secret_and_the_list_does_not(personas, api_for, org):
    admin = api_for(personas.admin)
    created = admin.post(
        "/webhooks",
        {"name": "Team A", "url": URL, "events": ["ticket.created", "ticket.commented"],
         "format": "slack", "team_id": org.team_a.pk},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["team"] == {"id": org.team_a.pk, "name": "Team A"}
    assert body["events"] == ["ticket.commented", "ticket.created"]
    [listed] = admin.get("/webhooks").json()["items"]
    assert "secret" not in listed and listed["format"] == "slack"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "N", "url": "ftp://x.example/", "events": ["ticket.created"]}, None),
        ({"name": "N", "url": URL, "events": ["ticket.exploded"]}, None),
        ({"name": "N", "url": URL, "events": ["ticket.created"], "format": "fax"}, None),
        ({"name": "N", "url": URL, "events": ["ticket.created"], "team_id": 999999}, "team_id"),
        ({"name": "N", "url": URL, "events": ["ticket.created"], "colour": "red"}, None),
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(personas, api_for, body, field):
    problem = is_problem(api_for(personas.admin).post("/webhooks", body), 422)
    if field:
        assert field in str(problem["errors"])
    assert not Webhook.objects.exists()


def test_update_changes_only_what_is_sent_and_switching_on_resets_failures(
    personas, api_for, hook, org
):
    Webhook.objects.filter(pk=hook.pk).update(
        is_active=False, consecutive_failures=5, disabled_reason="Receiver gone"
    )
    response = api_for(personas.admin).patch(
        f"/webhooks/{hook.pk}", {"is_active": True, "team_id": org.team_a.pk}
    )
    assert response.status_code == 200, response.content
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.events) == ("Ops", URL, ["ticket.created"])
    assert (hook.is_active, hook.consecutive_failures, hook.disabled_reason) == (True, 0, "")
    assert hook.team == org.team_a
    response = api_for(personas.admin).patch(f"/webhooks/{hook.pk}", {"all_teams": True})
    hook.refresh_from_db()
    assert response.status_code == 200 and hook.team is None


def test_an_update_sending_a_team_and_all_teams_is_a_422_and_changes_nothing(
    personas, api_for, hook, org
):
    response = api_for(personas.admin).patch(
        f"/webhooks/{hook.pk}", {"name": "Renamed", "team_id": org.team_a.pk, "all_teams": True}
    )
    problem = is_problem(response, 422)
    assert problem["errors"] == [
        {"field": "team_id", "message": "Send a team or all_teams, not both."}
    ]
    hook.refresh_from_db()
    assert (hook.name, hook.team) == ("Ops", None)


def test_the_delivery_log_pages_newest_first_in_fixed_queries(
    personas, api_for, hook, django_assert_num_queries
):
    for n in range(3):
        _delivery(hook, Status.SENT, n)
    admin = api_for(personas.admin)
    admin.get("/notifications/unread-count")  # records the token's first use
    # 1 token + user, 2 rate limit, 3 the hook, 4 a page of deliveries.
    with django_assert_num_queries(4):
        response = admin.get(f"/webhooks/{hook.pk}/deliveries?per_page=2")
    assert response.status_code == 200, response.content
    first = response.json()
    assert [d["message_id"] for d in first["items"]] == ["msg_0002", "msg_0001"]
    rest = admin.get(f"/webhooks/{hook.pk}/deliveries?per_page=2&after={first['next_cursor']}")
    assert [d["message_id"] for d in rest.json()["items"]] == ["msg_0000"]
    assert "body" not in first["items"][0]


def test_retry_queues_a_failed_delivery_and_refuses_a_delivered_one(personas, api_for, hook):
    failed, sent = _delivery(hook, Status.FAILED, 1), _delivery(hook, Status.SENT, 2)
    admin = api_for(personas.admin)
    assert admin.post(f"/webhooks/{hook.pk}/deliveries/{failed.pk}/retry").json() == {
        "queued": True
    }
    failed.refresh_from_db()
    assert failed.status == Status.QUEUED
    is_problem(admin.post(f"/webhooks/{hook.pk}/deliveries/{sent.pk}/retry"), 409)
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_a_delivery_of_another_hook_is_a_404(personas, api_for, hook):
    other = services.webhook_create(
        actor=personas.admin, name="Other", url=URL, events=["ticket.created"]
    )
    delivery = _delivery(other, Status.FAILED)
    response = api_for(personas.admin).post(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/retry")
    is_problem(response, 404)
