"""Every persona × every ticket action through the API, with the exact status expected.

The same matrix as the web pages (portal/tickets/tests/test_permission_matrix.py): the
ticket was raised by `requester` in group X and routed to team A, where the agent got it.
Refusals change nothing: the ticket's version and history are compared before and after.
"""

import pytest

from portal.api.tests.conftest import is_problem
from portal.tickets.models import Comment, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

# The watcher watches the ticket and holds no other role (access.WATCHER).
PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider", "watcher"]


def _row(requester, agent, lead, spoc, admin, outsider, watcher):
    values = [requester, agent, lead, spoc, admin, outsider, watcher]
    return dict(zip(PERSONAS, values, strict=True))


def _actions(org, personas):
    return {
        "read": ("GET", "", None, _row(200, 200, 200, 200, 200, 404, 200)),
        "comments": ("GET", "/comments", None, _row(200, 200, 200, 200, 200, 404, 200)),
        "history": ("GET", "/events", None, _row(200, 200, 200, 200, 200, 404, 200)),
        "edit": (
            "PATCH",
            "",
            {"title": "New title", "priority": "high", "subcategory": org.printer.pk, "version": 1},
            _row(403, 200, 200, 200, 200, 404, 403),
        ),
        "take": ("POST", "/take", None, _row(403, 403, 200, 403, 200, 404, 403)),
        "start work": (
            "POST",
            "/transitions",
            {"status": "in_progress"},
            _row(403, 200, 200, 200, 200, 404, 403),
        ),
        "cancel": (
            "POST",
            "/transitions",
            {"status": "cancelled"},
            _row(200, 200, 200, 200, 200, 404, 403),
        ),
        "close unresolved": (
            "POST",
            "/transitions",
            {"status": "closed"},
            _row(403, 403, 403, 403, 200, 404, 403),
        ),
        "assign": (
            "POST",
            "/assign",
            {"assignee": personas.lead.pk},
            _row(403, 403, 200, 200, 200, 404, 403),
        ),
        "move team": (
            "POST",
            "/team",
            {"team": org.team_b.pk, "reason": "Not ours"},
            _row(403, 200, 200, 200, 200, 404, 403),
        ),
        "comment": (
            "POST",
            "/comments",
            {"body": "Hello"},
            _row(201, 201, 201, 201, 201, 404, 201),
        ),
        "internal comment": (
            "POST",
            "/comments",
            {"body": "Psst", "internal": True},
            _row(403, 201, 201, 201, 201, 404, 403),
        ),
    }


ACTIONS = [
    "read", "comments", "history", "edit", "take", "start work", "cancel", "close unresolved",
    "assign", "move team", "comment", "internal comment",
]  # fmt: skip


def _snapshot(ticket: Ticket) -> tuple:
    ticket.refresh_from_db()
    return (
        ticket.version,
        ticket.status,
        ticket.assignee_id,
        ticket.team_id,
        TicketEvent.objects.filter(ticket=ticket).count(),
        Comment.objects.filter(ticket=ticket).count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_persona_gets_the_expected_status_for_each_ticket_action(
    action, persona, personas, people, org, api_for, ticket
):
    method, suffix, body, expected = _actions(org, personas)[action]
    client = api_for(people[persona])
    before = _snapshot(ticket)
    response = client.request(method, f"/tickets/{ticket.number}{suffix}", body)
    assert response.status_code == expected[persona], response.content
    if expected[persona] >= 400:
        is_problem(response, expected[persona])
        if method != "GET":
            assert _snapshot(ticket) == before, "a refused request changed the ticket"
    elif method != "GET":
        assert _snapshot(ticket) != before


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_can_list_and_raise_tickets(persona, personas, people, org, api_for, ticket):
    client = api_for(people[persona])
    listed = client.get("/tickets")
    assert listed.status_code == 200
    numbers = [item["number"] for item in listed.json()["items"]]
    assert numbers == ([] if persona == "outsider" else [ticket.number])
    created = client.post(
        "/tickets",
        {
            "title": "Screen flickers",
            "description": "Since Monday.",
            "group": org.group_x.pk,
            "category": org.hardware.pk,
        },
    )
    assert created.status_code == 201, created.content
    assert created["Location"] == f"/api/v1/tickets/{created.json()['number']}"
    assert created.json()["requester"]["email"] == people[persona].email


@pytest.mark.parametrize(
    ("persona", "fixture"),
    [
        ("requester", "other_ticket"),
        ("outsider", "ticket"),
        ("agent", "group_y_ticket"),
        ("lead", "group_y_ticket"),
        ("spoc", "group_y_ticket"),
    ],
)
def test_other_peoples_ticket_numbers_answer_404_like_missing_ones(
    persona, fixture, personas, api_for, request
):
    target = request.getfixturevalue(fixture)
    client = api_for(getattr(personas, persona))
    for suffix in ("", "/comments", "/events", "/attachments", "/watchers"):
        is_problem(client.get(f"/tickets/{target.number}{suffix}"), 404)
    is_problem(client.post(f"/tickets/{target.number}/comments", {"body": "Hi"}), 404)
    is_problem(client.put(f"/tickets/{target.number}/watchers/me"), 404)
    upload = client.upload(f"/tickets/{target.number}/attachments", [_text_file()])
    is_problem(upload, 404)
    assert not target.watchers.exists() and not target.attachments.exists()
    # The same answer as for a number that does not exist: numbers leak nothing.
    missing = client.get("/tickets/TKT-999999")
    assert missing.json()["detail"] == client.get(f"/tickets/{target.number}").json()["detail"]


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notes.txt", b"Nothing to see\n")


def test_watchers_read_the_public_side_only(personas, watcher, api_for, ticket):
    agent, watching = api_for(personas.agent), api_for(watcher)
    agent.post(f"/tickets/{ticket.number}/comments", {"body": "Psst", "internal": True})
    agent.post(f"/tickets/{ticket.number}/comments", {"body": "Public answer"})
    seen = watching.get(f"/tickets/{ticket.number}/comments").json()["items"]
    assert [c["body"] for c in seen] == ["Public answer"]
    events = watching.get(f"/tickets/{ticket.number}/events").json()["items"]
    assert events and not any(e["internal"] for e in events)
    refused = watching.post(f"/tickets/{ticket.number}/comments", {"body": "x", "internal": True})
    is_problem(refused, 403)
    # Listed with the tickets they may see, and under the "watching" view.
    assert [t["number"] for t in watching.get("/tickets?view=watching").json()["items"]] == [
        ticket.number
    ]


def test_requesters_never_see_internal_comments_or_their_events(personas, api_for, ticket):
    agent, requester = api_for(personas.agent), api_for(personas.requester)
    assert agent.post(f"/tickets/{ticket.number}/comments", {"body": "Psst", "internal": True})
    agent.post(f"/tickets/{ticket.number}/comments", {"body": "Public answer"})

    seen_by_requester = requester.get(f"/tickets/{ticket.number}/comments").json()["items"]
    assert [c["body"] for c in seen_by_requester] == ["Public answer"]
    seen_by_agent = agent.get(f"/tickets/{ticket.number}/comments").json()["items"]
    assert [c["body"] for c in seen_by_agent] == ["Psst", "Public answer"]

    requester_events = requester.get(f"/tickets/{ticket.number}/events").json()["items"]
    agent_events = agent.get(f"/tickets/{ticket.number}/events").json()["items"]
    assert not any(e["internal"] for e in requester_events)
    assert len(agent_events) == len(requester_events) + 1


def test_requester_search_does_not_find_words_only_in_internal_comments(personas, api_for, ticket):
    api_for(personas.agent).post(
        f"/tickets/{ticket.number}/comments", {"body": "zanzibar", "internal": True}
    )
    assert api_for(personas.requester).get("/tickets?q=zanzibar").json()["items"] == []
    found = api_for(personas.agent).get("/tickets?q=zanzibar").json()["items"]
    assert [t["number"] for t in found] == [ticket.number]
