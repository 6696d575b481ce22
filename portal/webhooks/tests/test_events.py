"""Ticket changes become outbox rows for the hooks that want them, in the change's
transaction; nothing is sent on the caller's path."""

import json

import pytest
from django.db import transaction

from portal.tickets import services as tickets
from portal.tickets import sla_jobs
from portal.tickets.models import Status
from portal.tickets.tests.sla_fixtures import T0, H, always_open, clock_at
from portal.webhooks.models import Event, Format, WebhookDelivery

pytestmark = pytest.mark.django_db
always_open = always_open  # the fixture, imported for this module
URL = "https://hooks.example.com/in"


def queued(hook) -> list[tuple[str, dict]]:
    """(event, parsed body) of the hook's rows, oldest first."""
    rows = WebhookDelivery.objects.filter(webhook=hook).order_by("created_at", "event_key")
    return [(row.event, json.loads(row.body)) for row in rows]


def test_a_new_ticket_queues_one_created_event_with_codes_and_a_link(make_hook, raise_ticket):
    hook = make_hook(URL)
    ticket = raise_ticket()
    [(event, body)] = queued(hook)
    assert event == body["type"] == Event.TICKET_CREATED
    assert body["data"]["ticket"] == {
        "number": ticket.number,
        "title": "Laptop will not start",
        "status": "new",
        "priority": ticket.priority,
        "team": "Team A",
        "assignee": ticket.assignee.full_name,
        "url": f"http://127.0.0.1:8000/tickets/{ticket.number}",
    }
    row = WebhookDelivery.objects.get()
    assert row.status == WebhookDelivery.Status.QUEUED and row.attempts == 0
    assert row.message_id.startswith("msg_")


def test_assignment_status_and_comments_each_become_an_event(make_hook, raise_ticket, personas):
    hook = make_hook(URL)
    ticket = raise_ticket()
    tickets.ticket_assign(actor=personas.lead, ticket=ticket, assignee=personas.lead)
    ticket.refresh_from_db()
    tickets.ticket_change_status(actor=personas.lead, ticket=ticket, status=Status.ON_HOLD)
    ticket.refresh_from_db()
    tickets.comment_add(actor=personas.lead, ticket=ticket, body="Waiting for the part.")
    events = [event for event, _ in queued(hook)]
    assert events == [
        Event.TICKET_CREATED,
        Event.TICKET_ASSIGNED,
        Event.TICKET_STATUS_CHANGED,
        Event.TICKET_COMMENTED,
    ]
    bodies = dict(queued(hook))
    assert bodies[Event.TICKET_ASSIGNED]["data"]["ticket"]["assignee"] == "Lead Persona"
    assert (
        bodies[Event.TICKET_STATUS_CHANGED]["data"]["change"]
        == {
            "from": "in_progress",
            "to": "on_hold",
        }
        or bodies[Event.TICKET_STATUS_CHANGED]["data"]["change"]["to"] == "on_hold"
    )
    comment = bodies[Event.TICKET_COMMENTED]["data"]["comment"]
    assert comment["body"] == "Waiting for the part." and comment["internal"] is False


def test_internal_notes_reach_only_hooks_marked_internal(make_hook, raise_ticket, personas):
    public_hook = make_hook(URL, events=[Event.TICKET_COMMENTED])
    internal_hook = make_hook(URL, events=[Event.TICKET_COMMENTED], include_internal=True)
    ticket = raise_ticket()
    tickets.comment_add(
        actor=personas.agent, ticket=ticket, body="Root cause: bad RAM", internal=True
    )
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="A new one is on its way.")
    assert [b["data"]["comment"]["body"] for _, b in queued(public_hook)] == [
        "A new one is on its way."
    ]
    assert [b["data"]["comment"]["body"] for _, b in queued(internal_hook)] == [
        "Root cause: bad RAM",
        "A new one is on its way.",
    ]


def test_a_team_hook_hears_only_its_teams_tickets(make_hook, raise_ticket, org, personas):
    team_a_hook = make_hook(URL, team=org.team_a)
    team_b_hook = make_hook(URL, team=org.team_b)
    raise_ticket()  # routed to team A
    assert [e for e, _ in queued(team_a_hook)] == [Event.TICKET_CREATED]
    assert queued(team_b_hook) == []


def test_hooks_that_are_off_or_want_other_events_get_nothing(make_hook, raise_ticket, personas):
    off = make_hook(URL)
    tickets_hook = make_hook(URL, events=[Event.TICKET_COMMENTED])
    from portal.webhooks import services

    services.webhook_update(
        actor=personas.admin, hook=off, name="Ops", url=URL, events=off.events,
        fmt=off.format, is_active=False,
    )  # fmt: skip
    raise_ticket()
    assert queued(off) == [] and queued(tickets_hook) == []


def test_a_change_that_rolls_back_leaves_no_delivery(make_hook, raise_ticket):
    make_hook(URL)
    with pytest.raises(RuntimeError), transaction.atomic():
        raise_ticket()
        raise RuntimeError("the request failed after the ticket was written")
    assert not WebhookDelivery.objects.exists()


def test_sla_breach_and_risk_are_events_once_each(always_open, make_hook, raise_ticket):
    hook = make_hook(URL, events=[Event.SLA_AT_RISK, Event.SLA_BREACHED])
    with clock_at(T0):
        raise_ticket(priority="urgent")  # response due T0 + 1 h
    sla_jobs.escalate(T0 + H * 5 / 6)
    sla_jobs.escalate(T0 + 2 * H)
    sla_jobs.escalate(T0 + 2 * H)  # a second run tells nothing new
    events = [(e, b["data"]["sla"]) for e, b in queued(hook)]
    assert events == [
        (Event.SLA_AT_RISK, {"target": "response", "line": "at_risk"}),
        (Event.SLA_BREACHED, {"target": "response", "line": "breached"}),
    ]


def test_chat_presets_are_readable_messages_with_a_link(make_hook, raise_ticket):
    teams = make_hook(URL, fmt=Format.TEAMS)
    slack = make_hook(URL, fmt=Format.SLACK)
    ticket = raise_ticket(title="Printer <jammed> & smoking")
    [(_, card)] = queued(teams)
    content = card["attachments"][0]["content"]
    assert card["type"] == "message" and content["type"] == "AdaptiveCard"
    assert content["body"][0]["text"].startswith(f"New ticket {ticket.number} Printer <jammed>")
    assert content["actions"][0]["url"] == f"http://127.0.0.1:8000/tickets/{ticket.number}"
    [(_, message)] = queued(slack)
    text = message["blocks"][0]["text"]["text"]
    assert text.startswith(f"<http://127.0.0.1:8000/tickets/{ticket.number}|{ticket.number}>")
    assert "Printer &lt;jammed&gt; &amp; smoking" in text  # no markup from a title
