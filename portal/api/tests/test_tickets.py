"""Ticket endpoints beyond the permission matrix: creation, partial edits, the filters."""

import uuid

import pytest

from portal.api.tests.conftest import is_problem
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _new(org, **extra) -> dict:
    return {
        "title": "Printer jams",
        "description": "Every page.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.printer.pk,
        **extra,
    }


def test_a_repeated_idempotency_key_returns_the_first_ticket(personas, org, api_for):
    client = api_for(personas.requester)
    key = str(uuid.uuid4())
    first = client.post("/tickets", _new(org, idempotency_key=key))
    again = client.post("/tickets", _new(org, idempotency_key=key))
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Ticket.objects.count() == 1
    assert first["ETag"] == '"1"'
    # Routed like the web form: team A, whose agent has the fewest tickets.
    assert first.json()["team"]["name"] == "Team A"


def test_unknown_master_data_ids_are_field_errors(personas, org, api_for):
    body = is_problem(api_for(personas.requester).post("/tickets", _new(org, category=987654)), 422)
    assert body["errors"] == [
        {"field": "category", "message": "There is no category with id 987654."}
    ]
    mismatched = api_for(personas.requester).post("/tickets", _new(org, group=org.group_y.pk))
    assert (
        is_problem(mismatched, 400)["detail"] == "The category Hardware does not belong to Group Y."
    )


def test_an_edit_changes_only_the_fields_sent(personas, org, api_for, ticket):
    client = api_for(personas.agent)
    response = client.patch(
        f"/tickets/{ticket.number}", {"priority": "urgent", "subcategory": None, "version": 1}
    )
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.subcategory_id, ticket.title) == (
        "urgent",
        None,
        "Laptop will not start",
    )
    assert response.json()["version"] == 2 == ticket.version
    events = client.get(f"/tickets/{ticket.number}/events").json()["items"]
    assert {e["field"] for e in events if e["kind"] == "edited"} == {"priority", "classification"}


def test_the_list_applies_the_web_filters_and_role_checks(personas, org, api_for, raise_ticket):
    raise_ticket(title="Laptop one")
    raise_ticket(
        title="Payroll question", group=org.group_y, category=org.payroll, subcategory=None
    )
    client = api_for(personas.requester)
    by_group = client.get(f"/tickets?group={org.group_y.pk}").json()["items"]
    assert [t["title"] for t in by_group] == ["Payroll question"]
    oldest = client.get("/tickets?sort=created").json()["items"]
    assert [t["title"] for t in oldest] == ["Laptop one", "Payroll question"]
    assert client.get("/tickets?requester=me&status=new&status=cancelled").status_code == 200
    # The web list refuses saved views a role does not have; so does the API.
    is_problem(client.get("/tickets?view=team"), 422)
    team = api_for(personas.agent).get("/tickets?view=team").json()["items"]
    assert [t["title"] for t in team] == ["Laptop one"]


def test_the_list_gives_each_ticket_the_url_and_fields_of_its_own_read(
    personas, api_for, raise_ticket
):
    made = [raise_ticket(title=f"Laptop {n}") for n in range(3)]
    client = api_for(personas.agent)
    items = client.get("/tickets?sort=created").json()["items"]
    assert [item["url"] for item in items] == [t.get_absolute_url() for t in made]
    for item in items:
        one = client.get(f"/tickets/{item['number']}").json()
        assert {key: one[key] for key in item} == item


def test_a_comment_sent_again_with_its_key_returns_the_first_and_another_is_a_409(
    personas, api_for, ticket
):
    from portal.tickets.models import Comment

    client = api_for(personas.requester)
    key = str(uuid.uuid4())
    url = f"/tickets/{ticket.number}/comments"
    first = client.post(url, {"body": "It beeps again.", "idempotency_key": key})
    again = client.post(url, {"body": "It beeps again.", "idempotency_key": key})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Comment.objects.filter(ticket=ticket).count() == 1
    # The key with another comment: refused, nothing added.
    body = is_problem(client.post(url, {"body": "Something else", "idempotency_key": key}), 409)
    assert "already used" in body["detail"]
    assert Comment.objects.filter(ticket=ticket).count() == 1
    # Without a key, each send is a comment of its own (as before).
    client.post(url, {"body": "It beeps again."})
    assert Comment.objects.filter(ticket=ticket).count() == 2
