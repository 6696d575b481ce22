"""Every persona × every ticket page and action, with the exact status expected.

The ticket under test was raised by `requester` in group X and routed to team A, where
the agent (fewest open tickets, first in turn) got it. Refusals must change nothing: the
ticket's version and history are compared before and after each refused request.
"""

import pytest

from portal.tickets.access import visible_tickets
from portal.tickets.models import Comment, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

# The watcher watches the ticket under test and holds no other role (access.WATCHER): the
# requester's view of it, without the requester's own moves (cancel, reopen, confirm).
PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider", "watcher"]


def _row(requester, agent, lead, spoc, admin, outsider, watcher):
    values = [requester, agent, lead, spoc, admin, outsider, watcher]
    return dict(zip(PERSONAS, values, strict=True))


PAGES = {
    "list": ("/tickets", _row(200, 200, 200, 200, 200, 200, 200)),
    "new": ("/tickets/new", _row(200, 200, 200, 200, 200, 200, 200)),
    "export": ("/tickets/export.csv", _row(200, 200, 200, 200, 200, 200, 200)),
    "detail": ("/tickets/{n}", _row(200, 200, 200, 200, 200, 404, 200)),
    "edit": ("/tickets/{n}/edit", _row(403, 200, 200, 200, 200, 404, 403)),
    # A new ticket following up this one: whoever can see it.
    "follow-up": ("/tickets/new?follow_up={n}", _row(200, 200, 200, 200, 200, 404, 200)),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_get_pages_answer_each_persona_with_the_expected_status(
    page, persona, personas, people, client_for, ticket
):
    url, expected = PAGES[page]
    response = client_for(people[persona]).get(url.format(n=ticket.number))
    assert response.status_code == expected[persona]


def _actions(org, personas):
    return {
        "take": ("take", {}, _row(403, 403, 302, 403, 302, 404, 403)),
        "start work": (
            "status",
            {"status": "in_progress"},
            _row(403, 302, 302, 302, 302, 404, 403),
        ),
        # Cancelling asks first (200, nothing written), then cancels when confirmed.
        "ask to cancel": (
            "status",
            {"status": "cancelled"},
            _row(200, 200, 200, 200, 200, 404, 403),
        ),
        "cancel": (
            "status",
            {"status": "cancelled", "confirmed": "1"},
            _row(302, 302, 302, 302, 302, 404, 403),
        ),
        "no status chosen": ("status", {"status": ""}, _row(400, 400, 400, 400, 400, 404, 400)),
        "close unresolved": (
            "status",
            {"status": "closed"},
            _row(403, 403, 403, 403, 302, 404, 403),
        ),
        "assign": (
            "assign",
            {"assignee": personas.lead.pk},
            _row(403, 403, 302, 302, 302, 404, 403),
        ),
        "move team": (
            "team",
            {"team": org.team_b.pk, "reason": "Not ours"},
            _row(403, 302, 302, 302, 302, 404, 403),
        ),
        "comment": ("comments", {"body": "Hello"}, _row(302, 302, 302, 302, 302, 404, 302)),
        "internal comment": (
            "comments",
            {"body": "Psst", "internal": "on"},
            _row(403, 302, 302, 302, 302, 404, 403),
        ),
        "edit": (
            "edit",
            {
                "title": "New title",
                "description": "New text",
                "priority": "high",
                "group": org.group_x.pk,
                "category": org.hardware.pk,
                "subcategory": org.printer.pk,
            },
            _row(403, 302, 302, 302, 302, 404, 403),
        ),
    }


ACTION_NAMES = [
    "take",
    "start work",
    "ask to cancel",
    "cancel",
    "no status chosen",
    "close unresolved",
    "assign",
    "move team",
    "comment",
    "internal comment",
    "edit",
]


def _snapshot(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (ticket.version, ticket.status, ticket.assignee_id, ticket.team_id, ticket.title,
            TicketEvent.objects.count(), Comment.objects.count())  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTION_NAMES)
def test_post_actions_answer_each_persona_with_the_expected_status_and_refusals_change_nothing(
    action, persona, personas, people, org, client_for, ticket
):
    path, data, expected = _actions(org, personas)[action]
    before = _snapshot(ticket)
    response = client_for(people[persona]).post(
        f"/tickets/{ticket.number}/{path}", {"version": ticket.version, **data}
    )
    assert response.status_code == expected[persona]
    if response.status_code == 302:
        # Back to the ticket, or to the list when the change took it out of their sight
        # (an agent or lead moving it to another team).
        still_visible = visible_tickets(people[persona]).filter(pk=ticket.pk).exists()
        expected_location = f"/tickets/{ticket.number}" if still_visible else "/tickets"
        assert response["Location"] == expected_location
        assert _snapshot(ticket) != before
    else:
        assert _snapshot(ticket) == before


POST_ONLY = ["take", "status", "assign", "team", "comments"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("path", POST_ONLY)
def test_get_on_post_only_endpoints_is_405(path, persona, personas, people, client_for, ticket):
    response = client_for(people[persona]).get(f"/tickets/{ticket.number}/{path}")
    assert response.status_code == 405


@pytest.mark.parametrize("persona", PERSONAS)
def test_get_on_bulk_is_405(persona, personas, people, client_for):
    assert client_for(people[persona]).get("/tickets/bulk").status_code == 405


OTHER_TICKET = _row(404, 200, 200, 200, 200, 200, 404)
GROUP_Y_TICKET = _row(200, 404, 404, 404, 200, 404, 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_other_peoples_ticket_numbers_are_404_unless_the_persona_works_them(
    persona, personas, people, client_for, other_ticket, group_y_ticket
):
    client = client_for(people[persona])
    assert client.get(f"/tickets/{other_ticket.number}").status_code == OTHER_TICKET[persona]
    assert client.get(f"/tickets/{group_y_ticket.number}").status_code == GROUP_Y_TICKET[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("number", ["TKT-999999", "TKT-abc", "0", "TKT-" + "9" * 30])
def test_unknown_or_malformed_numbers_are_404(number, persona, personas, people, client_for):
    response = client_for(people[persona]).get(f"/tickets/{number}")
    assert response.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_actions_on_a_ticket_outside_the_personas_scope_are_404(
    persona, personas, people, client_for, group_y_ticket
):
    response = client_for(people[persona]).post(
        f"/tickets/{group_y_ticket.number}/comments", {"body": "Hi"}
    )
    assert response.status_code == (302 if persona in {"requester", "admin"} else 404)


BULK = _row(403, 302, 302, 302, 302, 403, 403)


@pytest.mark.parametrize("persona", PERSONAS)
def test_bulk_actions_are_for_people_who_work_tickets(
    persona, personas, people, client_for, ticket
):
    response = client_for(people[persona]).post(
        "/tickets/bulk", {"numbers": [ticket.number], "action": "status", "status": "on_hold"}
    )
    assert response.status_code == BULK[persona]


@pytest.mark.parametrize(
    "url", ["/tickets", "/tickets/new", "/tickets/export.csv", "/tickets/TKT-000001"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["comments", "status", "take"])
def test_actions_without_a_csrf_token_are_refused_and_change_nothing(path, ticket, personas):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.agent)
    before = _snapshot(ticket)
    response = client.post(
        f"/tickets/{ticket.number}/{path}",
        {"body": "x", "status": "on_hold", "version": ticket.version},
    )
    assert response.status_code == 403
    assert _snapshot(ticket) == before
