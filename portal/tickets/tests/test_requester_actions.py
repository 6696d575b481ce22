"""Safer requester actions on the ticket page: nothing preselected, cancelling asks first
and names who is told, the note says who reads it, and a comment on a closed ticket
either reopens it or turns into a follow-up ticket instead of vanishing."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from portal.notifications.models import Notification
from portal.testing.notices import deliver_pending
from portal.tickets import services
from portal.tickets.models import Comment, Status, Ticket
from portal.tickets.transitions import REOPEN_WINDOW

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def _closed(personas, ticket, *, days_ago: int) -> Ticket:
    ticket = services.ticket_change_status(
        actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED
    )
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=Status.CLOSED)
    when = timezone.now() - dt.timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=when, closed_at=when)
    return Ticket.objects.get(pk=ticket.pk)


def _status_select(html: str) -> str:
    return re.search(r'<select id="status-select".*?</select>', html, re.S).group(0)


def test_the_requesters_status_form_preselects_nothing(personas, client_for, ticket):
    html = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    select = _status_select(html)
    assert '<option value="" selected disabled>Choose…</option>' in select
    assert select.count("selected") == 1
    assert "Cancel my ticket" in select


def test_posting_no_status_is_a_400_that_changes_nothing(personas, client_for, ticket):
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/status", {"status": "", "version": ticket.version}
    )
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_cancelling_asks_first_and_names_who_will_be_told(personas, client_for, ticket):
    services.ticket_watch(actor=personas.spoc, ticket=ticket)
    deliver_pending()
    Notification.objects.all().delete()
    client = client_for(personas.requester)
    response = client.post(
        f"/tickets/{ticket.number}/status",
        {"status": "cancelled", "version": ticket.version, "reason": "Found a spare"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Cancel {ticket.number}?" in html
    assert f"Who will be told:\n  {ticket.assignee} and 1 person watching it." in html
    assert 'name="confirmed" value="1"' in html and 'value="Found a spare"' in html
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW  # nothing yet
    deliver_pending()
    assert not Notification.objects.exists()
    response = client.post(
        f"/tickets/{ticket.number}/status",
        {"status": "cancelled", "version": ticket.version, "reason": "Found a spare",
         "confirmed": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CANCELLED
    deliver_pending()
    told = set(Notification.objects.values_list("recipient__email", flat=True))
    assert told == {ticket.assignee.email, "spoc@example.com"}


def test_a_stale_cancel_is_a_409_before_any_question(personas, client_for, ticket):
    seen = ticket.version
    services.ticket_update(actor=personas.lead, ticket=ticket, expected_version=seen, title="T2")
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/status", {"status": "cancelled", "version": seen}
    )
    assert response.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_a_cancel_someone_may_not_make_is_refused_before_any_question(personas, client_for, ticket):
    ticket = services.ticket_change_status(  # in progress: too late to cancel
        actor=ticket.assignee, ticket=ticket, status=Status.IN_PROGRESS
    )
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/status", {"status": "cancelled", "version": ticket.version}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("persona", "says"),
    [("requester", "The people working on the ticket see your note"),
     ("agent", "the requester and watchers see this note")],
)  # fmt: skip
def test_the_status_form_says_who_reads_the_note(persona, says, personas, client_for, ticket):
    if persona == "requester":  # the requester has a move to make on a resolved ticket
        ticket = services.ticket_change_status(
            actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED
        )
    html = client_for(getattr(personas, persona)).get(ticket.get_absolute_url()).content.decode()
    assert says in html


def test_within_the_window_the_page_says_a_comment_reopens_and_it_does(
    personas, client_for, ticket
):
    ticket = _closed(personas, ticket, days_ago=1)
    client = client_for(personas.requester)
    assert "A comment reopens it" in client.get(ticket.get_absolute_url()).content.decode()
    response = client.post(f"/tickets/{ticket.number}/comments", {"body": "Broken again."})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_after_the_window_the_page_offers_a_follow_up_instead_of_a_comment_form(
    personas, client_for, ticket
):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    html = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    assert "Raise a follow-up" in html
    assert f'action="/tickets/{ticket.number}/comments"' not in html
    # The people working it still have their comment form.
    html = client_for(personas.lead).get(ticket.get_absolute_url()).content.decode()
    assert f'action="/tickets/{ticket.number}/comments"' in html


def test_a_refused_comment_comes_back_as_a_follow_up_carrying_the_text(
    personas, client_for, ticket
):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    client = client_for(personas.requester)
    response = client.post(f"/tickets/{ticket.number}/comments", {"body": "Broken <again>."})
    assert response.status_code == 409
    html = response.content.decode()
    assert "raise a follow-up" in html
    assert ">Broken &lt;again&gt;.</textarea>" in html
    assert not Comment.objects.filter(ticket=ticket).exists()
    # The follow-up form, filled in and not yet sent.
    response = client.post(
        f"/tickets/new?follow_up={ticket.number}", {"prefill": "1", "description": "Broken."}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="Follow-up to {ticket.number}: {ticket.title}"' in html
    assert (
        f"Follow-up to [{ticket.number}](/tickets/{ticket.number}).\n\nBroken.</textarea>" in html
    )
    assert Ticket.objects.count() == 1


def test_a_follow_up_is_a_new_ticket_linking_to_the_old_one(personas, org, client_for, ticket):
    client = client_for(personas.requester)
    html = client.get(f"/tickets/new?follow_up={ticket.number}").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    response = client.post(
        f"/tickets/new?follow_up={ticket.number}",
        {"title": f"Follow-up to {ticket.number}", "group": org.group_x.pk,
         "category": org.hardware.pk, "subcategory": org.laptop.pk, "priority": "",
         "description": f"Follow-up to [{ticket.number}](/tickets/{ticket.number}). Again.",
         "idempotency_key": key},
    )  # fmt: skip
    assert response.status_code == 302
    new = Ticket.objects.latest("id")
    assert new.pk != ticket.pk
    page = client.get(new.get_absolute_url()).content.decode()
    assert f'<a href="/tickets/{ticket.number}" rel="noopener noreferrer nofollow">' in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_comment_on_a_ticket_closed_past_its_window_per_persona(
    persona, personas, client_for, ticket
):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    expected = {"requester": 409, "agent": 302, "lead": 302, "spoc": 302, "admin": 302,
                "outsider": 404}[persona]  # fmt: skip
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{ticket.number}/comments", {"body": "A word"}
    )
    assert response.status_code == expected
    assert Comment.objects.filter(ticket=ticket).exists() == (expected == 302)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_follow_up_prefill_per_persona(persona, personas, client_for, ticket):
    expected = 404 if persona == "outsider" else 200
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/new?follow_up={ticket.number}", {"prefill": "1", "description": "x"}
    )
    assert response.status_code == expected
    assert Ticket.objects.count() == 1
