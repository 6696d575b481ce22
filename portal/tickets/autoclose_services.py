"""Closing tickets nobody answers, and reminding requesters who are waited for.

Run by the periodic task `close_and_remind` (tasks.py, PERIODIC_TASKS). Three rules, each
with a setting (0 turns it off, docs/working-faster.md):
- a Resolved ticket closes AUTO_CLOSE_DAYS after its resolution (default 7, the reopen
  window): the requester confirmed nothing and reopened nothing, so it is over;
- a ticket On hold (waiting for the requester) gets one reminder to the requester
  HOLD_REMINDER_DAYS after it was put on hold ...
- ... and closes HOLD_CLOSE_DAYS after it was put on hold.
"Put on hold" is `sla_paused_at`, which every status change into a pausing status sets
(sla.status_changed), with or without an SLA policy.

Exactly once however many workers run it at once: each ticket is handled in its own
transaction that locks the row (SELECT … FOR UPDATE) and checks the rule again on the
locked row. A second run waits for the first's lock, then re-reads (PostgreSQL's READ
COMMITTED gives each statement a fresh snapshot) and finds the ticket closed, or the
reminder event already written, and does nothing. The closing is a status change like a
person's (history event `status` by the system, the same notices: the requester's last
email), so analytics count it like any other.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.tickets import access, notify, services, sla
from portal.tickets.models import Status, Ticket, TicketEvent

log = logging.getLogger("portal.tickets")

Kind = TicketEvent.Kind
# Per run and rule; a larger backlog (a worker down for days) is worked off over the next runs.
BATCH = 500
# Reasons written on the closing event (shown in the timeline and the last email).
RESOLVED_REASON = "Closed automatically: resolved {days} days ago and not reopened."
HOLD_REASON = "Closed automatically: on hold for {days} days without an answer."


def _days(name: str) -> int:
    return getattr(settings, name)


def _ids(status: str, since_field: str, cutoff: dt.datetime) -> list[int]:
    return list(
        access.system_read(Ticket)
        .filter(status=status, **{f"{since_field}__lte": cutoff})
        .order_by(since_field, "pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _locked(pk: int, status: str, since_field: str, cutoff: dt.datetime) -> Ticket | None:
    """The ticket's row, locked, if it still meets the rule (None: gone or moved on)."""
    return (
        access.system_read(Ticket)
        .select_for_update(of=("self",))
        .select_related("group", "category", "subcategory", "team", "assignee", "requester")
        .filter(pk=pk, status=status, **{f"{since_field}__lte": cutoff})
        .first()
    )


@transaction.atomic
def ticket_auto_close(*, pk: int, now: dt.datetime) -> bool:
    """Close a resolved ticket past AUTO_CLOSE_DAYS, or an On hold one past
    HOLD_CLOSE_DAYS; True when this call closed it."""
    for status, since_field, setting, reason in (
        (Status.RESOLVED, "resolved_at", "AUTO_CLOSE_DAYS", RESOLVED_REASON),
        (Status.ON_HOLD, "sla_paused_at", "HOLD_CLOSE_DAYS", HOLD_REASON),
    ):
        days = _days(setting)
        if not days:
            continue
        ticket = _locked(pk, status, since_field, now - dt.timedelta(days=days))
        if ticket is None:
            continue
        warned = _reminded(ticket, before=now)
        if status == Status.ON_HOLD and _days("HOLD_REMINDER_DAYS") and not warned:
            return False  # warned first (a later run closes it), never closed unwarned
        _close(ticket, now=now, reason=reason.format(days=days))
        return True
    return False


def _reminded(ticket: Ticket, *, before: dt.datetime | None = None) -> bool:
    """Whether the requester was reminded since the ticket was last put on hold (and
    before `before`: a reminder of this very run does not count as a warning given)."""
    events = access.system_read(TicketEvent).filter(
        ticket=ticket, kind=Kind.REMINDED, created_at__gte=ticket.sla_paused_at
    )
    if before is not None:
        events = events.filter(created_at__lt=before)
    return events.exists()


# `services._History` and `services._save` are the ticket services' own history and save
# steps: a system close writes exactly what a person's status change writes.
def _close(ticket: Ticket, *, now: dt.datetime, reason: str) -> None:
    history = services._History(ticket, None, now)
    history.add(Kind.STATUS, field="status", old=ticket.status, new=Status.CLOSED, reason=reason)
    ticket.closed_at = now
    old_status, ticket.status = ticket.status, Status.CLOSED
    fields = {"status", "closed_at"} | sla.status_changed(ticket, old_status, now)
    services._save(ticket, fields, now)
    history.save()
    notify.ticket_status_changed(ticket, actor=None, old_status=old_status, reason=reason)


@transaction.atomic
def ticket_hold_remind(*, pk: int, now: dt.datetime) -> bool:
    """Remind the requester of a ticket On hold past HOLD_REMINDER_DAYS, once per hold;
    True when this call sent the reminder."""
    days = _days("HOLD_REMINDER_DAYS")
    if not days:
        return False
    ticket = _locked(pk, Status.ON_HOLD, "sla_paused_at", now - dt.timedelta(days=days))
    if ticket is None:
        return False
    if _reminded(ticket):
        return False
    history = services._History(ticket, None, now)
    history.add(Kind.REMINDED, field="status", old=Status.ON_HOLD, new=str(ticket.requester))
    history.save()
    notify.hold_reminder(ticket, days=days, close_days=_days("HOLD_CLOSE_DAYS"))
    return True


def close_and_remind(now: dt.datetime | None = None) -> dict[str, int]:
    """One run of the three rules; returns how many tickets each changed."""
    now = now or timezone.now()
    counts = {"reminded": 0, "closed": 0}
    if days := _days("HOLD_REMINDER_DAYS"):
        # Reminders first. A ticket past both lines (a worker down for days) is reminded
        # now and closed by a later run: nobody's ticket is closed without a warning.
        for pk in _ids(Status.ON_HOLD, "sla_paused_at", now - dt.timedelta(days=days)):
            counts["reminded"] += ticket_hold_remind(pk=pk, now=now)
    for status, since_field, setting in (
        (Status.RESOLVED, "resolved_at", "AUTO_CLOSE_DAYS"),
        (Status.ON_HOLD, "sla_paused_at", "HOLD_CLOSE_DAYS"),
    ):
        if days := _days(setting):
            for pk in _ids(status, since_field, now - dt.timedelta(days=days)):
                counts["closed"] += ticket_auto_close(pk=pk, now=now)
    if any(counts.values()):
        log.info("Auto-close and reminders: %s", counts)
    return counts
