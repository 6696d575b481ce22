"""Parent/child: who may set a parent (every persona, exact statuses, nothing changed on a
refusal, a parent one cannot see is a 404 like a missing number), no loops, and a parent
is not resolved while a child is open unless the person says so (history records it)."""

import pytest

from portal.tickets import merge_services, services
from portal.tickets.errors import InvalidInput, OpenChildren
from portal.tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _state():
    return (
        sorted(Ticket.objects.values_list("pk", "parent_id", "version")),
        TicketEvent.objects.filter(kind=TicketEvent.Kind.PARENT).count(),
    )


@pytest.fixture
def child(raise_ticket):
    return raise_ticket(title="Monitor flickers")


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_both_tickets_set_a_parent(persona, personas, client_for, ticket, child):
    expected = _row(403, 302, 302, 302, 302, 404)[persona]
    before = _state()
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{child.number}/parent", {"parent": ticket.number}
    )
    assert response.status_code == expected
    child.refresh_from_db()
    if expected == 302:
        assert child.parent_id == ticket.pk
    else:
        assert _state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_parent_one_cannot_see_is_a_404_like_a_missing_one(
    persona, personas, client_for, ticket, group_y_ticket
):
    expected = _row(403, 404, 404, 404, 302, 404)[persona]
    client = client_for(getattr(personas, persona))
    before = _state()
    response = client.post(f"/tickets/{ticket.number}/parent", {"parent": group_y_ticket.number})
    assert response.status_code == expected
    if expected != 302:
        assert _state() == before
        assert group_y_ticket.title.encode() not in response.content
    if expected == 404:
        assert (
            client.post(f"/tickets/{ticket.number}/parent", {"parent": "TKT-999999"}).status_code
            == 404
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_the_child_remove_its_parent(persona, personas, client_for, ticket, child):
    merge_services.ticket_set_parent(
        actor=personas.agent, ticket=child, parent_number=ticket.number
    )
    expected = _row(403, 302, 302, 302, 302, 404)[persona]
    before = _state()
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{child.number}/parent", {"remove": "1"}
    )
    assert response.status_code == expected
    child.refresh_from_db()
    assert (child.parent_id is None) == (expected == 302)
    if expected != 302:
        assert _state() == before


def test_a_loop_is_refused(personas, ticket, child, raise_ticket):
    grandchild = raise_ticket(title="Cable")
    merge_services.ticket_set_parent(
        actor=personas.agent, ticket=child, parent_number=ticket.number
    )
    merge_services.ticket_set_parent(
        actor=personas.agent, ticket=grandchild, parent_number=child.number
    )
    before = _state()
    with pytest.raises(InvalidInput):
        merge_services.ticket_set_parent(
            actor=personas.agent, ticket=ticket, parent_number=grandchild.number
        )
    with pytest.raises(InvalidInput):
        merge_services.ticket_set_parent(
            actor=personas.agent, ticket=ticket, parent_number=ticket.number
        )
    assert _state() == before


def test_the_history_of_both_says_who_set_the_parent(personas, ticket, child):
    merge_services.ticket_set_parent(actor=personas.lead, ticket=child, parent_number=ticket.number)
    on_child = TicketEvent.objects.get(ticket=child, kind=TicketEvent.Kind.PARENT)
    assert (on_child.actor_id, on_child.new_value, on_child.is_internal) == (
        personas.lead.pk, ticket.number, False,
    )  # fmt: skip
    on_parent = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.PARENT)
    assert (on_parent.field, on_parent.new_value, on_parent.is_internal) == (
        "child", child.number, True,
    )  # fmt: skip


def test_a_parent_is_not_resolved_while_a_child_is_open_unless_one_says_so(
    personas, client_for, ticket, child
):
    merge_services.ticket_set_parent(
        actor=personas.agent, ticket=child, parent_number=ticket.number
    )
    client = client_for(personas.agent)
    version = Ticket.objects.get(pk=ticket.pk).version
    refused = client.post(
        f"/tickets/{ticket.number}/status", {"status": "resolved", "version": version}
    )
    assert refused.status_code == 409
    assert child.number.encode() in refused.content
    assert b'name="with_open_children"' in refused.content
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    done = client.post(
        f"/tickets/{ticket.number}/status",
        {"status": "resolved", "version": version, "with_open_children": "on"},
    )
    assert done.status_code == 302
    event = TicketEvent.objects.get(ticket=ticket, field="status", new_value=Status.RESOLVED)
    assert event.reason == f"Done even though child tickets were open: {child.number}."


def test_a_parent_whose_children_are_done_resolves_as_usual(personas, ticket, child):
    merge_services.ticket_set_parent(
        actor=personas.agent, ticket=child, parent_number=ticket.number
    )
    services.ticket_change_status(actor=personas.agent, ticket=child, status=Status.IN_PROGRESS)
    with pytest.raises(OpenChildren):
        services.ticket_change_status(actor=personas.agent, ticket=ticket, status=Status.RESOLVED)
    services.ticket_change_status(actor=personas.agent, ticket=child, status=Status.RESOLVED)
    resolved = services.ticket_change_status(
        actor=personas.agent, ticket=ticket, status=Status.RESOLVED
    )
    assert resolved.status == Status.RESOLVED
