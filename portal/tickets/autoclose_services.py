"""Closing tickets nobody answers, and reminding requesters who are waited for.

Run by the periodic task `close_and_remind` (tasks.py, PERIODIC_TASKS). Three rules, each
with a setting (0 turns it off, docs/working-faster.md):
- a Resolved ticket closes AUTO_CLOSE_DAYS after its resolution (default 7, the reopen
  window): the requester confirmed nothing and reopened nothing, so it is over;
- a ticket On hold (waiting for the requester) gets one reminder to the requester
  HOLD_REMINDER_DAYS after it was put on hold ...
- ... and closes HOLD_CLOSE_DAYS after it was put on hold.
A business unit group may set its own values for the two On-hold rules (`hold_days`;
empty: the global setting).
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
from django.db.models import Q
from django.utils import timezone

from portal.catalog.models import BusinessUnitGroup
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


# A group's own On-hold rules (None: the global setting; catalog BusinessUnitGroup).
GROUP_FIELDS = {"HOLD_REMINDER_DAYS": "hold_reminder_days", "HOLD_CLOSE_DAYS": "hold_close_days"}


def hold_days(group: BusinessUnitGroup, setting: str) -> int:
    """The group's value for an On-hold rule, or the global setting when it has none."""
    own = getattr(group, GROUP_FIELDS[setting])
    return _days(setting) if own is None else own


def _hold_due(setting: str, now: dt.datetime) -> Q:
    """Tickets put on hold long enough for `setting`, each by its group's value: one
    condition per group with its own value, one for all the others (one small query for
    the groups that have one)."""
    field = GROUP_FIELDS[setting]
    own = dict(BusinessUnitGroup.objects.exclude(**{field: None}).values_list("pk", field))
    due = Q(pk__in=[])
    if default := _days(setting):
        due |= Q(sla_paused_at__lte=now - dt.timedelta(days=default)) & ~Q(group_id__in=own)
    for group_id, days in own.items():
        if days:
            due |= Q(group_id=group_id, sla_paused_at__lte=now - dt.timedelta(days=days))
    return due


def _ids(status: str, since_field: str, due: Q) -> list[int]:
    return list(
        access.system_read(Ticket)
        .filter(due, status=status)
        .order_by(since_field, "pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _locked(pk: int) -> Ticket | None:
    """The ticket's row, locked; the caller checks the rule again on it."""
    return (
        access.system_read(Ticket)
        .select_for_update(of=("self",))
        .select_related("group", "category", "subcategory", "team", "assignee", "requester")
        .filter(pk=pk)
        .first()
    )


def _past(since: dt.datetime | None, days: int, now: dt.datetime) -> bool:
    return bool(days) and since is not None and since <= now - dt.timedelta(days=days)


@transaction.atomic
def ticket_auto_close(*, pk: int, now: dt.datetime) -> bool:
    """Close a resolved ticket past AUTO_CLOSE_DAYS, or an On hold one past its group's
    close days (HOLD_CLOSE_DAYS by default); True when this call closed it."""
    ticket = _locked(pk)
    if ticket is None:
        return False
    if ticket.status == Status.RESOLVED:
        days = _days("AUTO_CLOSE_DAYS")
        if not _past(ticket.resolved_at, days, now):
            return False
        _close(ticket, now=now, reason=RESOLVED_REASON.format(days=days))
        return True
    if ticket.status == Status.ON_HOLD:
        days = hold_days(ticket.group, "HOLD_CLOSE_DAYS")
        if not _past(ticket.sla_paused_at, days, now):
            return False
        warned = _reminded(ticket, before=now)
        if hold_days(ticket.group, "HOLD_REMINDER_DAYS") and not warned:
            return False  # warned first (a later run closes it), never closed unwarned
        _close(ticket, now=now, reason=HOLD_REASON.format(days=days))
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
    ticket = _locked(pk)
    if ticket is None or ticket.status != Status.ON_HOLD:
        return False
    days = hold_days(ticket.group, "HOLD_REMINDER_DAYS")
    if not _past(ticket.sla_paused_at, days, now):
        return False
    if _reminded(ticket):
        return False
    history = services._History(ticket, None, now)
    history.add(Kind.REMINDED, field="status", old=Status.ON_HOLD, new=str(ticket.requester))
    history.save()
    notify.hold_reminder(ticket, days=days, close_days=hold_days(ticket.group, "HOLD_CLOSE_DAYS"))
    return True


def close_and_remind(now: dt.datetime | None = None) -> dict[str, int]:
    """One run of the three rules; returns how many tickets each changed."""
    now = now or timezone.now()
    counts = {"reminded": 0, "closed": 0}
    # Reminders first. A ticket past both lines (a worker down for days) is reminded now
    # and closed by a later run: nobody's ticket is closed without a warning.
    for pk in _ids(Status.ON_HOLD, "sla_paused_at", _hold_due("HOLD_REMINDER_DAYS", now)):
        counts["reminded"] += ticket_hold_remind(pk=pk, now=now)
    if days := _days("AUTO_CLOSE_DAYS"):
        resolved_due = Q(resolved_at__lte=now - dt.timedelta(days=days))
        for pk in _ids(Status.RESOLVED, "resolved_at", resolved_due):
            counts["closed"] += ticket_auto_close(pk=pk, now=now)
    for pk in _ids(Status.ON_HOLD, "sla_paused_at", _hold_due("HOLD_CLOSE_DAYS", now)):
        counts["closed"] += ticket_auto_close(pk=pk, now=now)
    if any(counts.values()):
        log.info("Auto-close and reminders: %s", counts)
    return counts
