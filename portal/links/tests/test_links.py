"""Links between tickets: every persona × add and remove with exact statuses; a ticket the
person cannot see is a 404 exactly like a missing number, its title never shown, nothing
written; each side shows only links to tickets its viewer may see."""

import pytest

from portal.links import services
from portal.links.models import TicketLink
from portal.tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _state():
    return (
        sorted(TicketLink.objects.values_list("source_id", "target_id", "kind")),
        TicketEvent.objects.filter(field="link").count(),
    )


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_a_ticket_link_it_to_one_they_see(
    persona, personas, client_for, ticket, other_ticket
):
    # ticket: the requester's, team A; other_ticket: the outsider's, team A too.
    expected = _row(403, 302, 302, 302, 302, 404)[persona]
    before = _state()
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{ticket.number}/links", {"kind": "relates", "target": other_ticket.number}
    )
    assert response.status_code == expected
    if expected != 302:
        assert _state() == before
        assert other_ticket.title.encode() not in response.content
    else:
        assert _state()[0] == [(ticket.pk, other_ticket.pk, "relates")]


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_linking_to_a_ticket_one_cannot_see_is_a_404_like_a_missing_one(
    persona, personas, client_for, ticket, group_y_ticket
):
    # group_y_ticket: group Y, no team; only the admin (and its requester) see it.
    expected = _row(403, 404, 404, 404, 302, 404)[persona]
    client = client_for(getattr(personas, persona))
    before = _state()
    response = client.post(
        f"/tickets/{ticket.number}/links", {"kind": "blocks", "target": group_y_ticket.number}
    )
    assert response.status_code == expected
    if expected == 404:
        missing = client.post(
            f"/tickets/{ticket.number}/links", {"kind": "blocks", "target": "TKT-999999"}
        )
        assert missing.status_code == 404
        assert group_y_ticket.title.encode() not in response.content
        assert _state() == before


def test_each_side_shows_only_links_its_viewer_may_see(
    personas, org, client_for, ticket, raise_ticket
):
    group_y_ticket = raise_ticket(
        requester=personas.outsider,
        title="Salary review",
        group=org.group_y,
        category=org.payroll,
        subcategory=None,
    )
    services.ticket_link_add(
        actor=personas.admin, ticket=ticket, target_number=group_y_ticket.number, kind="blocks"
    )
    admin_page = client_for(personas.admin).get(ticket.get_absolute_url()).content.decode()
    assert f'This ticket blocks <a href="/tickets/{group_y_ticket.number}"' in admin_page
    agent_page = client_for(personas.agent).get(ticket.get_absolute_url()).content.decode()
    # No link, no title; the internal history row names the number only (numbers are
    # sequential and say nothing about a ticket).
    assert f'href="/tickets/{group_y_ticket.number}"' not in agent_page
    assert group_y_ticket.title not in agent_page
    # The other end reads the link the other way round, for those who see both.
    other_side = client_for(personas.admin).get(group_y_ticket.get_absolute_url()).content.decode()
    assert f'This ticket is blocked by <a href="/tickets/{ticket.number}"' in other_side
    # Its requester (the outsider) cannot see the first ticket: nothing shown.
    requester_side = client_for(personas.outsider).get(group_y_ticket.get_absolute_url())
    assert requester_side.status_code == 200
    assert b"is blocked by" not in requester_side.content
    assert ticket.title.encode() not in requester_side.content


def test_links_are_internal_history_and_can_be_removed(personas, client_for, ticket, other_ticket):
    link = services.ticket_link_add(
        actor=personas.agent, ticket=ticket, target_number=other_ticket.number, kind="duplicate"
    )
    client = client_for(personas.lead)
    assert client.post(f"/tickets/{ticket.number}/links/{link.pk}/delete").status_code == 302
    assert not TicketLink.objects.exists()
    events = TicketEvent.objects.visible_to(personas.agent, ticket).filter(field="link")
    assert [(e.new_value, e.old_value, e.is_internal) for e in events] == [
        (f"is a duplicate of {other_ticket.number}", "", True),
        ("", f"is a duplicate of {other_ticket.number}", True),
    ]
    assert not TicketEvent.objects.visible_to(personas.requester, ticket).filter(field="link")


def test_bad_links_are_refused_with_nothing_written(personas, client_for, ticket, other_ticket):
    client = client_for(personas.agent)
    url = f"/tickets/{ticket.number}/links"
    assert client.post(url, {"kind": "parent", "target": other_ticket.number}).status_code == 400
    assert client.post(url, {"kind": "relates", "target": ticket.number}).status_code == 400
    assert client.post(url, {"kind": "relates", "target": other_ticket.number}).status_code == 302
    assert client.post(url, {"kind": "relates", "target": other_ticket.number}).status_code == 409
    assert TicketLink.objects.count() == 1
