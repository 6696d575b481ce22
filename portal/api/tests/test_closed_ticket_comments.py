"""The API treats a requester's comment on a closed ticket as the ticket page does."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.api.tests.conftest import is_problem
from portal.tickets import services
from portal.tickets.models import Comment, Status, Ticket
from portal.tickets.transitions import REOPEN_WINDOW

pytestmark = pytest.mark.django_db


def _closed(personas, ticket, *, days_ago: int) -> Ticket:
    ticket = services.ticket_change_status(
        actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED
    )
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=Status.CLOSED)
    when = timezone.now() - dt.timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=when, closed_at=when)
    return Ticket.objects.get(pk=ticket.pk)


def test_a_requesters_comment_within_the_window_reopens_the_ticket(personas, api_for, ticket):
    ticket = _closed(personas, ticket, days_ago=1)
    response = api_for(personas.requester).post(
        f"/tickets/{ticket.number}/comments", {"body": "It is back."}
    )
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_after_the_window_it_is_a_409_and_nothing_is_added(personas, api_for, ticket):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    response = api_for(personas.requester).post(
        f"/tickets/{ticket.number}/comments", {"body": "It is back."}
    )
    assert "follow-up" in is_problem(response, 409)["detail"]
    assert not Comment.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
