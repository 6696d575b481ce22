"""Auto-close and reminders under a fixed clock: a resolved ticket closes AUTO_CLOSE_DAYS
after its resolution with a last email; one On hold reminds its requester after
HOLD_REMINDER_DAYS and closes after HOLD_CLOSE_DAYS; each exactly once, even with two runs
at once, written in the history as the system's doing."""

import datetime as dt

import pytest
from django.db import connection

from portal.notifications.models import Notification
from portal.testing.concurrency import run_contested
from portal.testing.notices import deliver_pending
from portal.tickets import autoclose_services, history, services
from portal.tickets.models import Status, Ticket, TicketEvent
from portal.tickets.tests.sla_fixtures import T0, clock_at

DAY = dt.timedelta(days=1)
Kind = TicketEvent.Kind


def told(kind) -> dict[str, int]:
    deliver_pending()  # what the worker does within seconds of the event
    counts: dict[str, int] = {}
    for email in Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True):
        counts[email] = counts.get(email, 0) + 1
    return counts


def _ticket_in(raise_ticket, personas, status: str, **extra) -> Ticket:
    """A ticket raised at T0 and moved by its agent to `status` at T0."""
    with clock_at(T0):
        ticket = raise_ticket(**extra)
        services.ticket_change_status(actor=personas.agent, ticket=ticket, status=status)
    deliver_pending()
    Notification.objects.all().delete()
    return Ticket.objects.get(pk=ticket.pk)


def _run(at):
    with clock_at(at):
        return autoclose_services.close_and_remind(at)


def _system_events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind, actor=None))


@pytest.mark.django_db
def test_a_resolved_ticket_closes_after_auto_close_days_with_a_last_email(raise_ticket, personas):
    ticket = _ticket_in(raise_ticket, personas, Status.RESOLVED)
    assert _run(T0 + 7 * DAY - dt.timedelta(seconds=1)) == {"reminded": 0, "closed": 0}
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    assert _run(T0 + 7 * DAY) == {"reminded": 0, "closed": 1}
    closed = Ticket.objects.get(pk=ticket.pk)
    assert (closed.status, closed.closed_at, closed.version) == (
        Status.CLOSED,
        T0 + 7 * DAY,
        ticket.version + 1,
    )
    [event] = _system_events(ticket, Kind.STATUS)
    assert (event.old_value, event.new_value, event.is_internal) == ("resolved", "closed", False)
    assert event.reason == "Closed automatically: resolved 7 days ago and not reopened."
    assert history.sentence(event) == "closed it automatically (it was Resolved)"
    # The requester's last email (the agent holds it and is told too).
    assert told("ticket_status") == {"requester@example.com": 1, "agent@example.com": 1}
    assert _run(T0 + 30 * DAY) == {"reminded": 0, "closed": 0}


@pytest.mark.django_db
def test_auto_close_days_is_read_at_run_time_and_zero_turns_it_off(
    raise_ticket, personas, settings
):
    ticket = _ticket_in(raise_ticket, personas, Status.RESOLVED)
    settings.AUTO_CLOSE_DAYS = 0
    assert _run(T0 + 100 * DAY)["closed"] == 0
    settings.AUTO_CLOSE_DAYS = 2
    assert _run(T0 + 2 * DAY)["closed"] == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.django_db
def test_a_ticket_reopened_before_the_deadline_stays_open(raise_ticket, personas):
    ticket = _ticket_in(raise_ticket, personas, Status.RESOLVED)
    with clock_at(T0 + DAY):
        services.ticket_change_status(
            actor=personas.requester, ticket=ticket, status=Status.IN_PROGRESS
        )
    assert _run(T0 + 30 * DAY)["closed"] == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_on_hold_reminds_the_requester_once_then_closes(raise_ticket, personas):
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    assert _run(T0 + 3 * DAY - dt.timedelta(seconds=1)) == {"reminded": 0, "closed": 0}
    assert _run(T0 + 3 * DAY) == {"reminded": 1, "closed": 0}
    assert _run(T0 + 4 * DAY) == {"reminded": 0, "closed": 0}
    assert told("ticket_reminder") == {"requester@example.com": 1}
    [reminder] = _system_events(ticket, Kind.REMINDED)
    assert history.sentence(reminder) == (
        "reminded Requester Persona that the ticket waits for their answer"
    )
    # A reminder changes nothing a person edits against.
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version
    assert _run(T0 + 10 * DAY) == {"reminded": 0, "closed": 1}
    [event] = _system_events(ticket, Kind.STATUS)
    assert (event.old_value, event.new_value) == ("on_hold", "closed")
    assert event.reason == "Closed automatically: on hold for 10 days without an answer."
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.django_db
def test_a_ticket_past_both_lines_is_reminded_before_it_is_closed(raise_ticket, personas):
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    assert _run(T0 + 20 * DAY) == {"reminded": 1, "closed": 0}
    assert _run(T0 + 20 * DAY + dt.timedelta(minutes=15)) == {"reminded": 0, "closed": 1}
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.django_db
def test_the_requesters_answer_ends_the_hold_and_a_new_hold_starts_over(raise_ticket, personas):
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    assert _run(T0 + 3 * DAY)["reminded"] == 1
    with clock_at(T0 + 4 * DAY):
        services.comment_add(actor=personas.requester, ticket=ticket, body="Here it is.")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    assert _run(T0 + 30 * DAY) == {"reminded": 0, "closed": 0}
    with clock_at(T0 + 30 * DAY):
        services.ticket_change_status(actor=personas.agent, ticket=ticket, status=Status.ON_HOLD)
    assert _run(T0 + 33 * DAY)["reminded"] == 1
    assert len(_system_events(ticket, Kind.REMINDED)) == 2


@pytest.mark.django_db
def test_without_reminders_an_on_hold_ticket_simply_closes(raise_ticket, personas, settings):
    settings.HOLD_REMINDER_DAYS = 0
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    assert _run(T0 + 10 * DAY) == {"reminded": 0, "closed": 1}
    assert not _system_events(ticket, Kind.REMINDED)


@pytest.mark.django_db
def test_the_requester_sees_the_reminder_and_closing_in_the_history(
    raise_ticket, personas, client_for
):
    ticket = _ticket_in(raise_ticket, personas, Status.ON_HOLD)
    _run(T0 + 3 * DAY)
    _run(T0 + 10 * DAY)
    page = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    assert "reminded Requester Persona that the ticket waits for their answer" in page
    assert "closed it automatically (it was On hold)" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs overlapping transactions: SQLite serialises writers at BEGIN",
)
def test_two_runs_at_once_remind_and_close_each_ticket_once(raise_ticket, personas):
    resolved = [
        _ticket_in(raise_ticket, personas, Status.RESOLVED, title=f"r{i}") for i in range(3)
    ]
    on_hold = [_ticket_in(raise_ticket, personas, Status.ON_HOLD, title=f"h{i}") for i in range(3)]
    results = run_contested(
        lambda: autoclose_services.close_and_remind(T0 + 8 * DAY),
        module=autoclose_services, reader="_ids",
    )  # fmt: skip
    assert sum(r["closed"] for r in results) == len(resolved)
    assert sum(r["reminded"] for r in results) == len(on_hold)
    for ticket in resolved:
        assert len(_system_events(ticket, Kind.STATUS)) == 1
    for ticket in on_hold:
        assert len(_system_events(ticket, Kind.REMINDED)) == 1
    assert told("ticket_reminder") == {"requester@example.com": len(on_hold)}
    # One last email per closed ticket to its requester, one to its assignee (routing
    # spreads the six tickets over agent and lead).
    status_told = told("ticket_status")
    assert status_told.pop("requester@example.com") == len(resolved)
    assert sum(status_told.values()) == len(resolved)
