"""Escalation: at risk tells the assignee (while unassigned, the team's leads or the group's
SPOCs), breached tells the team's leads and the group's SPOCs and nobody else, exactly once
per ticket and target, even with two runs at once."""

import pytest
from django.db import connection

from portal.notifications.models import EmailDelivery, Notification
from portal.testing.concurrency import run_contested
from portal.testing.notices import deliver_pending
from portal.tickets import services, sla_jobs
from portal.tickets.models import Status, Ticket
from portal.tickets.tests.sla_fixtures import T0, H, always_open, clock_at

always_open = always_open  # the fixture, imported for this module


def told(kind) -> dict[str, int]:
    """recipient email → how many in-app notifications of `kind` they got."""
    deliver_pending()  # what the worker does within seconds of the event
    counts: dict[str, int] = {}
    for email in Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True):
        counts[email] = counts.get(email, 0) + 1
    return counts


def raise_urgent(raise_ticket, **extra):
    """Urgent: response due T0 + 1 h (at risk at 48 min), resolution T0 + 4 h (3 h 12 min)."""
    with clock_at(T0):
        return raise_ticket(priority="urgent", **extra)


@pytest.mark.django_db
def test_nothing_is_told_before_the_80_percent_line(always_open, raise_ticket):
    raise_urgent(raise_ticket)
    assert sla_jobs.escalate(T0 + H / 2) == {"at_risk": 0, "breached": 0}
    deliver_pending()
    assert not Notification.objects.filter(kind__startswith="sla_").exists()


@pytest.mark.django_db
def test_at_risk_tells_the_assignee_only_and_once(always_open, raise_ticket, personas):
    ticket = raise_urgent(raise_ticket)
    assignee = ticket.assignee.email
    assert sla_jobs.escalate(T0 + H * 5 / 6) == {"at_risk": 1, "breached": 0}
    assert told("sla_at_risk") == {assignee: 1}
    assert told("sla_breached") == {}
    # The next run finds nothing new.
    assert sla_jobs.escalate(T0 + H * 5 / 6) == {"at_risk": 0, "breached": 0}
    assert told("sla_at_risk") == {assignee: 1}
    assert EmailDelivery.objects.filter(kind="sla_at_risk").count() == 1


@pytest.mark.django_db
def test_at_risk_while_unassigned_tells_who_hands_it_out(always_open, raise_ticket, personas):
    in_team = raise_urgent(raise_ticket, title="waiting in the team")
    unmapped = raise_urgent(raise_ticket, title="no team")
    Ticket.objects.filter(pk=in_team.pk).update(assignee=None)
    Ticket.objects.filter(pk=unmapped.pk).update(assignee=None, team=None)
    assert sla_jobs.escalate(T0 + H * 5 / 6) == {"at_risk": 2, "breached": 0}
    deliver_pending()
    by_ticket = {
        (n.recipient.email, n.link.rsplit("/", 1)[-1])
        for n in Notification.objects.filter(kind="sla_at_risk").select_related("recipient")
    }
    # The team's lead for the one in a team; the group's SPOC for the one without.
    assert by_ticket == {
        ("lead@example.com", in_team.number),
        ("spoc@example.com", unmapped.number),
    }


@pytest.mark.django_db
def test_breach_tells_lead_and_spoc_and_nobody_else(always_open, raise_ticket, personas):
    ticket = raise_urgent(raise_ticket)
    with clock_at(T0 + H / 4):  # answered: only the resolution clock is left to run
        services.comment_add(actor=personas.admin, ticket=ticket, body="Looking.")
    counts = sla_jobs.escalate(T0 + 5 * H)
    assert counts == {"at_risk": 0, "breached": 1}
    assert told("sla_breached") == {"lead@example.com": 1, "spoc@example.com": 1}
    # Told of the breach, the at-risk line is closed too: no late "due soon" afterwards.
    assert told("sla_at_risk") == {}
    assert sla_jobs.escalate(T0 + 6 * H) == {"at_risk": 0, "breached": 0}
    ticket.refresh_from_db()
    assert ticket.sla_resolution_breached_notified_at == T0 + 5 * H
    assert ticket.sla_resolution_at_risk_notified_at == T0 + 5 * H


@pytest.mark.django_db
def test_each_target_is_escalated_on_its_own(always_open, raise_ticket):
    raise_urgent(raise_ticket)  # never answered: both targets breach
    assert sla_jobs.escalate(T0 + 5 * H) == {"at_risk": 0, "breached": 2}
    assert told("sla_breached") == {"lead@example.com": 2, "spoc@example.com": 2}


@pytest.mark.django_db
def test_tickets_on_hold_resolved_or_answered_are_not_escalated(
    always_open, raise_ticket, personas
):
    held = raise_urgent(raise_ticket, title="held")
    with clock_at(T0 + H / 10):
        services.ticket_change_status(actor=personas.admin, ticket=held, status=Status.ON_HOLD)
    done = raise_urgent(raise_ticket, title="done")
    with clock_at(T0 + H / 10):
        services.ticket_change_status(actor=personas.admin, ticket=done, status=Status.RESOLVED)
    assert sla_jobs.escalate(T0 + 10 * H) == {"at_risk": 0, "breached": 0}


@pytest.mark.django_db
def test_the_escalation_query_uses_the_partial_indexes(always_open, raise_ticket):
    if connection.vendor != "postgresql":
        pytest.skip("partial index plans are a PostgreSQL matter")
    raise_urgent(raise_ticket)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table would be scanned anyway
        try:
            queryset = Ticket.objects.filter(
                sla_jobs._condition(sla_jobs.sla.RESOLUTION, "breached", T0 + 5 * H)
            ).values_list("pk", flat=True)
            plan = queryset.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "ticket_sla_resolution_breach" in plan


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs overlapping transactions: SQLite serialises writers at BEGIN",
)
def test_two_runs_at_once_tell_each_ticket_and_target_once(always_open, raise_ticket):
    tickets = [raise_urgent(raise_ticket, title=f"t{i}") for i in range(6)]
    results = run_contested(
        lambda: sla_jobs.escalate(T0 + 5 * H), module=sla_jobs, reader="_candidates"
    )
    assert sum(result["breached"] for result in results) == 2 * len(tickets)
    assert told("sla_breached") == {
        "lead@example.com": 2 * len(tickets),
        "spoc@example.com": 2 * len(tickets),
    }
    assert EmailDelivery.objects.filter(kind="sla_breached").count() == 4 * len(tickets)
