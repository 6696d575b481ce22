"""The SLA work that runs in the background: escalation and bulk recomputation.

`escalate(now)` is what the periodic task runs: it finds open tickets that crossed the
80 % or 100 % line of a target and have not been told (one indexed range query per target
and line, see the partial indexes in models.py), claims each with a conditional UPDATE on
its marker column and notifies only when the claim won. Two workers running it at once
therefore notify each ticket and target exactly once: the second UPDATE waits for the
first's row lock, re-reads the row, finds the marker set and changes 0 rows.

`recompute_open()` re-applies policies to open tickets after calendars or policies change
(`sla_definitions_changed`), in batches of locked rows, so a service writing a ticket at
the same moment either runs before the batch or after it, never in between.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.sla.selectors import policy_for
from portal.tickets import access, notify, signals, sla
from portal.tickets.models import OPEN_STATUSES, Ticket

log = logging.getLogger("portal.tickets")

# Per run and line: a backlog larger than this (a long outage of the worker) is worked
# off over the next runs instead of in one long transaction-holding loop.
ESCALATION_BATCH = 500
RECOMPUTE_BATCH = 500


def _condition(target: sla.Target, line: str, now: dt.datetime) -> Q:
    """Tickets that crossed `line` of `target` by `now` and were not told.

    It repeats the partial index's condition word for word so PostgreSQL can use it (a
    partial index is only chosen when the query implies its WHERE clause).
    """
    column = target.at_risk if line == "at_risk" else target.due
    marker = target.at_risk_notified if line == "at_risk" else target.breached_notified
    condition = target.pending_q() & Q(
        **{f"{column}__isnull": False, f"{column}__lte": now, f"{marker}__isnull": True}
    )
    if line == "at_risk":
        # Past the due time it is a breach, which is told instead (and marks this line).
        condition &= Q(**{f"{target.due}__isnull": True}) | Q(**{f"{target.due}__gt": now})
    return condition


def _candidates(target: sla.Target, line: str, now: dt.datetime) -> list[int]:
    """Ids to claim, oldest crossing first, at most one batch."""
    column = target.at_risk if line == "at_risk" else target.due
    return list(
        access.system_read(Ticket)
        .filter(_condition(target, line, now))
        .order_by(column)
        .values_list("pk", flat=True)[:ESCALATION_BATCH]
    )


def _claim(pk: int, target: sla.Target, line: str, now: dt.datetime) -> bool:
    """Set the marker if nobody has (and the ticket still qualifies); True when we did."""
    column = target.at_risk if line == "at_risk" else target.due
    marker = target.at_risk_notified if line == "at_risk" else target.breached_notified
    updates: dict[str, dt.datetime | Coalesce] = {marker: now}
    if line == "breached":
        # A breach told makes a late at-risk notice pointless: mark that line as done too.
        updates[target.at_risk_notified] = Coalesce(target.at_risk_notified, now)
    return bool(
        access.system_read(Ticket)
        .filter(
            target.pending_q(),
            pk=pk,
            **{f"{column}__lte": now, f"{marker}__isnull": True},
        )
        .update(**updates)
    )


def escalate(now: dt.datetime | None = None) -> dict[str, int]:
    """Tell assignees about tickets at risk and leads + SPOCs about breaches, once each."""
    now = now or timezone.now()
    counts = {"at_risk": 0, "breached": 0}
    # Breaches first, so a ticket that crossed both lines since the last run is told once.
    for line in ("breached", "at_risk"):
        for target in sla.TARGETS:
            for pk in _candidates(target, line, now):
                with transaction.atomic():  # the claim and the notices commit together
                    if not _claim(pk, target, line, now):
                        continue  # another run got there first, or the ticket moved on
                    ticket = (
                        access.system_read(Ticket)
                        .select_related(
                            "group", "category", "subcategory", "team", "assignee", "requester"
                        )
                        .get(pk=pk)
                    )
                    if line == "breached":
                        notify.sla_breached(ticket, target=target)
                    else:
                        notify.sla_at_risk(ticket, target=target)
                    signals.sla_crossed.send(
                        sender=Ticket, ticket=ticket, target=target.key, line=line
                    )
                    counts[line] += 1
    if any(counts.values()):
        log.info("SLA escalation: %s", counts)
    return counts


def recompute_open(*, after_id: int = 0) -> int:
    """Re-apply the current policies to every open ticket; returns how many changed.

    Each distinct (group, category, priority) is looked up once per run (three queries),
    not once per ticket; only rows whose targets moved are written. A definition changed
    during the run enqueues another run, which picks it up.
    """
    changed_count = 0
    looked_up: dict[tuple, object] = {}
    while True:
        with transaction.atomic():
            batch = list(
                access.system_read(Ticket)
                .select_for_update()
                .filter(status__in=OPEN_STATUSES, pk__gt=after_id)
                .order_by("pk")[:RECOMPUTE_BATCH]
            )
            if not batch:
                return changed_count
            dirty = []
            for ticket in batch:
                key = (ticket.group_id, ticket.category_id, ticket.priority)
                if key not in looked_up:
                    looked_up[key] = policy_for(*key)
                if sla.recompute(ticket, target=looked_up[key]):
                    dirty.append(ticket)
            Ticket.objects.bulk_update(dirty, ["sla_policy", *sla.SLA_FIELDS[1:]])
            changed_count += len(dirty)
            after_id = batch[-1].pk
