"""Merging through the API: every persona with the exact status, the page's rules (work
both tickets; a ticket one cannot see is a 404 like a missing number), refusals change
nothing and never name a hidden ticket's title."""

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.links import services as link_services
from portal.links.models import TicketLink
from portal.tickets.models import Comment, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _state(*tickets):
    pks = [t.pk for t in tickets]
    return (
        list(Ticket.objects.filter(pk__in=pks).order_by("pk").values_list("status", "version")),
        sorted(Comment.objects.filter(ticket_id__in=pks).values_list("pk", "ticket_id")),
        TicketEvent.objects.filter(kind=TicketEvent.Kind.MERGED).count(),
    )


MERGE = dict(zip(PERSONAS, [403, 200, 200, 200, 200, 404, 401], strict=True))
ACROSS = dict(zip(PERSONAS, [403, 404, 404, 404, 200, 404, 401], strict=True))


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_both_tickets_merge_through_the_api(
    persona, personas, api_for, ticket, raise_ticket
):
    duplicate = raise_ticket(title="Laptop still dead")
    before = _state(ticket, duplicate)
    response = api_for(persona_user(personas, persona)).post(
        f"/tickets/{duplicate.number}/merge", {"into": ticket.number}
    )
    if MERGE[persona] != 200:
        is_problem(response, MERGE[persona])
        assert _state(ticket, duplicate) == before
        return
    assert response.status_code == 200
    assert response.json()["number"] == ticket.number
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.CLOSED, ticket.pk)
    read = api_for(persona_user(personas, persona)).get(f"/tickets/{duplicate.number}")
    assert read.json()["merged_into"] == ticket.number


@pytest.mark.parametrize("persona", PERSONAS)
def test_merging_into_a_ticket_one_cannot_see_is_a_404_like_a_missing_one(
    persona, personas, api_for, ticket, group_y_ticket
):
    client = api_for(persona_user(personas, persona))
    before = _state(ticket, group_y_ticket)
    response = client.post(f"/tickets/{ticket.number}/merge", {"into": group_y_ticket.number})
    if ACROSS[persona] == 200:
        assert response.status_code == 200
        return
    is_problem(response, ACROSS[persona])
    assert _state(ticket, group_y_ticket) == before
    assert group_y_ticket.title not in response.content.decode()
    if ACROSS[persona] == 404:
        missing = client.post(f"/tickets/{ticket.number}/merge", {"into": "TKT-999999"})
        is_problem(missing, 404)
        assert missing.json()["detail"] == response.json()["detail"]


def test_a_second_merge_of_a_merged_ticket_is_a_409(personas, api_for, ticket, raise_ticket):
    duplicate, third = raise_ticket(title="dup"), raise_ticket(title="third")
    client = api_for(personas.agent)
    assert (
        client.post(f"/tickets/{duplicate.number}/merge", {"into": ticket.number}).status_code
        == 200
    )
    before = _state(ticket, duplicate, third)
    is_problem(client.post(f"/tickets/{duplicate.number}/merge", {"into": third.number}), 409)
    is_problem(client.post(f"/tickets/{duplicate.number}/merge", {"into": ""}), 422)
    assert _state(ticket, duplicate, third) == before


# --- parent/child and links ------------------------------------------------------------

WORK = dict(zip(PERSONAS, [403, 200, 200, 200, 200, 404, 401], strict=True))


@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_both_tickets_set_a_parent_through_the_api(
    persona, personas, api_for, ticket, raise_ticket
):
    child = raise_ticket(title="Monitor flickers")
    client = api_for(persona_user(personas, persona))
    response = client.put(f"/tickets/{child.number}/parent", {"parent": ticket.number})
    child.refresh_from_db()
    if WORK[persona] != 200:
        is_problem(response, WORK[persona])
        assert child.parent_id is None
        return
    assert response.json()["parent"] == ticket.number
    children = client.get(f"/tickets/{ticket.number}/children").json()["items"]
    assert [c["number"] for c in children] == [child.number]
    blocked = client.post(f"/tickets/{ticket.number}/transitions", {"status": "resolved"})
    is_problem(blocked, 409)
    done = client.post(
        f"/tickets/{ticket.number}/transitions",
        {"status": "resolved", "with_open_children": True},
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert client.delete(f"/tickets/{child.number}/parent").json()["parent"] is None


LINK = dict(zip(PERSONAS, [403, 201, 201, 201, 201, 404, 401], strict=True))


@pytest.mark.parametrize("persona", PERSONAS)
def test_links_through_the_api_follow_the_pages_rules(
    persona, personas, api_for, ticket, other_ticket, group_y_ticket
):
    client = api_for(persona_user(personas, persona))
    response = client.post(
        f"/tickets/{ticket.number}/links", {"kind": "blocks", "target": other_ticket.number}
    )
    if LINK[persona] != 201:
        is_problem(response, LINK[persona])
        assert not TicketLink.objects.exists()
        return
    body = response.json()
    assert (body["label"], body["direction"], body["other"]["number"]) == (
        "blocks", "outgoing", other_ticket.number,
    )  # fmt: skip
    is_problem(
        client.post(
            f"/tickets/{ticket.number}/links", {"kind": "blocks", "target": other_ticket.number}
        ),
        409,
    )
    hidden = client.post(
        f"/tickets/{ticket.number}/links", {"kind": "relates", "target": group_y_ticket.number}
    )
    if persona == "admin":
        assert hidden.status_code == 201
    else:
        is_problem(hidden, 404)
        assert group_y_ticket.title not in hidden.content.decode()
    other_side = client.get(f"/tickets/{other_ticket.number}/links").json()["items"]
    assert [(i["label"], i["direction"]) for i in other_side] == [("is blocked by", "incoming")]
    assert client.delete(f"/tickets/{ticket.number}/links/{body['id']}").status_code == 204
    assert not TicketLink.objects.filter(pk=body["id"]).exists()


def test_a_requester_lists_no_link_to_a_ticket_they_cannot_see(
    personas, api_for, ticket, other_ticket
):
    link_services.ticket_link_add(
        actor=personas.agent, ticket=ticket, target_number=other_ticket.number, kind="relates"
    )
    items = api_for(personas.requester).get(f"/tickets/{ticket.number}/links").json()["items"]
    assert items == []
    is_problem(api_for(personas.requester).delete(f"/tickets/{ticket.number}/links/1"), 403)
