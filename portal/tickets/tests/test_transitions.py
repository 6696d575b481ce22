"""The lifecycle table, cell by cell, and the services enforcing it."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.roles import ADMIN, AGENT, LEAD, REQUESTER, SPOC
from portal.tickets import services
from portal.tickets.errors import ActionForbidden
from portal.tickets.models import Status, Ticket, TicketEvent
from portal.tickets.transitions import allowed_targets

pytestmark = pytest.mark.smoke

A, N, P, H, R, C, X = (
    Status.AWAITING,
    Status.NEW,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
    Status.RESOLVED,
    Status.CLOSED,
    Status.CANCELLED,
)
NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)

WORK = {
    A: [],  # only the approvers' decisions move it on (portal/approvals)
    N: [P, H, R, X],
    P: [H, R, X],
    H: [P, R, X],
    R: [P, C],
    C: [],
    X: [],
}
EXPECTED = {
    REQUESTER: {A: [X], N: [X], P: [], H: [], R: [P, C], C: [], X: []},
    AGENT: WORK,
    LEAD: WORK,
    SPOC: WORK,
    # Admins make any move but into or out of "awaiting approval" (cancelling it aside).
    ADMIN: {
        **{s: [t for t in Status.values if t not in (s, A)] for s in Status.values},
        A: [X],
    },
}


def _ticket(status, resolved_days_ago=1):
    return Ticket(status=status, resolved_at=NOW - dt.timedelta(days=resolved_days_ago))


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("status", Status.values)
def test_each_role_may_make_exactly_the_moves_in_the_table(role, status):
    allowed = allowed_targets(frozenset({role}), _ticket(status), now=NOW)
    assert allowed == [str(s) for s in EXPECTED[role][status]]


def test_requester_cannot_reopen_more_than_seven_days_after_resolution():
    ticket = _ticket(R, resolved_days_ago=8)
    assert allowed_targets(frozenset({REQUESTER}), ticket, now=NOW) == [C]


def test_requester_who_is_also_an_agent_gets_both_sets_of_moves():
    allowed = allowed_targets(frozenset({REQUESTER, AGENT}), _ticket(N), now=NOW)
    assert allowed == [P, H, R, X]


@pytest.mark.django_db
def test_requester_cancels_own_unstarted_ticket(ticket, personas):
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=X)
    ticket.refresh_from_db()
    assert ticket.status == X


@pytest.mark.django_db
def test_requester_cannot_cancel_a_ticket_in_progress_and_nothing_changes(ticket, personas):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status=P)
    ticket.refresh_from_db()
    version, events = ticket.version, TicketEvent.objects.count()

    with pytest.raises(ActionForbidden, match="from In progress to Cancelled"):
        services.ticket_change_status(actor=personas.requester, ticket=ticket, status=X)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == (P, version)
    assert TicketEvent.objects.count() == events


@pytest.mark.django_db
def test_resolving_records_the_time_and_confirming_close_records_closed(ticket, personas):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status=R)
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    assert ticket.first_response_at is not None
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=C)
    ticket.refresh_from_db()
    assert ticket.status == C
    assert ticket.closed_at is not None


@pytest.mark.django_db
def test_requester_reopens_within_the_window_and_the_resolution_is_cleared(ticket, personas):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status=R)
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=P)
    ticket.refresh_from_db()
    assert ticket.status == P
    assert ticket.resolved_at is None


@pytest.mark.django_db
def test_requester_cannot_reopen_after_the_window(ticket, personas):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status=R)
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - dt.timedelta(days=7, minutes=1)
    )
    with pytest.raises(ActionForbidden):
        services.ticket_change_status(actor=personas.requester, ticket=ticket, status=P)


@pytest.mark.django_db
def test_status_change_writes_history_with_old_and_new_labels(ticket, personas):
    services.ticket_change_status(
        actor=personas.lead, ticket=ticket, status=H, reason="Waiting for the serial number"
    )
    event = TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.STATUS).last()
    assert (event.actor, event.old_value, event.new_value) == (personas.lead, "new", "on_hold")
    assert event.reason == "Waiting for the serial number"


@pytest.mark.django_db
def test_requester_reply_puts_a_ticket_on_hold_back_in_progress(ticket, personas):
    services.ticket_change_status(actor=personas.agent, ticket=ticket, status=H)
    services.comment_add(actor=personas.requester, ticket=ticket, body="Serial is 123")
    ticket.refresh_from_db()
    assert ticket.status == P
