"""Service levels on API tickets (as the ticket page and list show them) and the category
edit that clears a subcategory of the old category (as the edit page does)."""

import pytest

from portal.api.tests.conftest import is_problem
from portal.catalog.models import Category, Subcategory
from portal.tickets import services
from portal.tickets.forms import TicketEditForm
from portal.tickets.tests.sla_fixtures import T0, H, always_open, clock_at

pytestmark = pytest.mark.django_db
always_open = always_open  # the fixture, imported for this module


def test_a_ticket_carries_its_policy_due_times_and_state(
    always_open, raise_ticket, personas, api_for
):
    with clock_at(T0):
        ticket = raise_ticket(priority="urgent")  # response due T0+1h, resolution T0+4h
    client = api_for(personas.requester)
    with clock_at(T0 + 50 * H / 60):  # past 80 % of the response target
        body = client.get(f"/tickets/{ticket.number}").json()
        listed = client.get("/tickets").json()["items"][0]
    assert body["sla"] == {
        "policy": "Standard",
        "state": "at_risk",
        "label": "At risk",
        "paused": False,
        "next_due_at": "2026-03-02T10:00:00Z",
        "response": {
            "due_at": "2026-03-02T10:00:00Z",
            "at_risk_at": "2026-03-02T09:48:00Z",
            "state": "at_risk",
            "label": "At risk",
        },
        "resolution": {
            "due_at": "2026-03-02T13:00:00Z",
            "at_risk_at": "2026-03-02T12:12:00Z",
            "state": "on_track",
            "label": "On track",
        },
    }
    assert listed["sla"] == body["sla"]


def test_on_hold_pauses_and_a_breach_shows(always_open, raise_ticket, personas, api_for):
    with clock_at(T0):
        held = raise_ticket(priority="urgent", title="Waiting")
        late = raise_ticket(priority="urgent", title="Late")
        services.ticket_change_status(actor=personas.agent, ticket=held, status="in_progress")
        services.ticket_change_status(actor=personas.agent, ticket=held, status="on_hold")
    client = api_for(personas.agent)
    with clock_at(T0 + 2 * H):
        held_sla = client.get(f"/tickets/{held.number}").json()["sla"]
        late_sla = client.get(f"/tickets/{late.number}").json()["sla"]
        breached = client.get("/tickets?sla_state=breached").json()["items"]
    assert held_sla["paused"] is True and held_sla["state"] == "paused"
    assert held_sla["resolution"]["due_at"] is None
    assert held_sla["response"]["state"] == "met"
    assert late_sla["state"] == "breached" and late_sla["response"]["state"] == "breached"
    assert [t["number"] for t in breached] == [late.number]


def test_without_a_policy_the_sla_is_null(ticket, personas, api_for):
    assert api_for(personas.requester).get(f"/tickets/{ticket.number}").json()["sla"] is None


def test_a_bad_sla_state_filter_is_a_422(personas, api_for):
    body = is_problem(api_for(personas.agent).get("/tickets?sla_state=late"), 422)
    assert body["errors"][0]["field"].startswith("query.sla_state")


# --- changing the category ---------------------------------------------------------------


@pytest.fixture
def software(org):
    category = Category.objects.create(group=org.group_x, name="Software")
    return category, Subcategory.objects.create(category=category, name="Email")


def _patch(client, ticket, body):
    version = client.get(f"/tickets/{ticket.number}").json()["version"]
    return client.patch(f"/tickets/{ticket.number}", {"version": version, **body})


def test_a_new_category_without_a_subcategory_clears_the_old_subcategory(
    ticket, software, personas, api_for
):
    category, _ = software
    assert ticket.subcategory is not None
    response = _patch(api_for(personas.agent), ticket, {"category": category.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["category"] == {"id": category.pk, "name": "Software"}
    assert body["subcategory"] is None
    ticket.refresh_from_db()
    assert (ticket.category_id, ticket.subcategory_id) == (category.pk, None)


def test_a_new_category_with_its_subcategory_sets_both(ticket, software, personas, api_for):
    category, email = software
    response = _patch(
        api_for(personas.agent), ticket, {"category": category.pk, "subcategory": email.pk}
    )
    assert response.status_code == 200, response.content
    assert response.json()["subcategory"] == {"id": email.pk, "name": "Email"}


def test_the_same_category_keeps_the_subcategory(ticket, org, personas, api_for):
    response = _patch(api_for(personas.agent), ticket, {"category": org.hardware.pk})
    assert response.json()["subcategory"] == {"id": org.laptop.pk, "name": "Laptop"}


def test_a_subcategory_of_another_category_is_refused_and_nothing_changes(
    ticket, software, org, personas, api_for
):
    category, _ = software
    response = _patch(
        api_for(personas.agent), ticket, {"category": category.pk, "subcategory": org.printer.pk}
    )
    assert "does not belong to Software" in is_problem(response, 400)["detail"]
    ticket.refresh_from_db()
    assert (ticket.category_id, ticket.subcategory_id) == (org.hardware.pk, org.laptop.pk)


def test_when_the_edit_page_requires_a_subcategory_the_api_asks_for_one(
    ticket, software, org, personas, api_for, monkeypatch
):
    monkeypatch.setattr(TicketEditForm, "subcategory_required", True)
    category, _ = software
    response = _patch(api_for(personas.agent), ticket, {"category": category.pk})
    body = is_problem(response, 422)
    assert body["errors"] == [
        {"field": "subcategory", "message": "Choose a subcategory of Software with the category."}
    ]
    ticket.refresh_from_db()
    assert ticket.subcategory_id == org.laptop.pk
