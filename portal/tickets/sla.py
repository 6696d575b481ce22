"""Service levels on tickets: storing targets, pausing the clock, and reading states.

`portal.sla` does the arithmetic and knows nothing of tickets; this module applies it to
one ticket (inside the caller's transaction, called by services.py), and gives lists and
analytics the same states as SQL expressions so nothing is computed per row in Python.

Clock rules (docs/sla.md):
- both clocks start at `created_at` on the calendar of the policy that applies
  (`policy_for(group, category, priority)`);
- On hold stops both clocks; so do Resolved and Closed (waiting for the requester), so a
  reopened ticket does not count the days it sat resolved. Time paused never counts;
- the response target is met at `first_response_at`, the resolution target at
  `resolved_at` (or `closed_at` for a ticket closed without being resolved);
- a cancelled ticket has no SLA.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.sla.clock import Deadlines, SlaState, deadlines, state
from portal.sla.selectors import ResolvedTarget, policy_for
from portal.tickets.models import Status, Ticket

# Statuses during which neither clock runs (awaiting approval: nobody may work it yet).
PAUSING = (Status.AWAITING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED, Status.CANCELLED)

SLA_FIELDS = (
    "sla_policy_id",  # the attribute, so comparing never loads the policy row
    "sla_policy_name",
    "sla_response_due_at",
    "sla_response_at_risk_at",
    "sla_resolution_due_at",
    "sla_resolution_at_risk_at",
)

STATE_LABELS = {
    SlaState.ON_TRACK: "On track",
    SlaState.AT_RISK: "At risk",
    SlaState.BREACHED: "Breached",
    SlaState.PAUSED: "Paused",
    SlaState.MET: "Met",
}
# A ticket's list badge is its worse target: breached beats at risk beats paused…
STATE_ORDER = (
    SlaState.BREACHED,
    SlaState.AT_RISK,
    SlaState.PAUSED,
    SlaState.ON_TRACK,
    SlaState.MET,
)


@dataclass(frozen=True)
class Target:
    """One of the two clocks, named by the columns that hold it."""

    key: str  # "response" | "resolution"
    label: str
    due: str
    at_risk: str
    at_risk_notified: str
    breached_notified: str

    def met_at(self, ticket: Ticket) -> dt.datetime | None:
        if self.key == "response":
            return ticket.first_response_at
        return ticket.resolved_at or ticket.closed_at

    def met_expression(self):
        if self.key == "response":
            return F("first_response_at")
        return Coalesce("resolved_at", "closed_at")

    def pending_q(self) -> Q:
        """Not yet met and still open: what the escalation indexes hold (see models.py)."""
        condition = Q(status__in=[Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD])
        if self.key == "response":
            condition &= Q(first_response_at__isnull=True)
        return condition


RESPONSE = Target(
    "response",
    "First response",
    "sla_response_due_at",
    "sla_response_at_risk_at",
    "sla_response_at_risk_notified_at",
    "sla_response_breached_notified_at",
)
RESOLUTION = Target(
    "resolution",
    "Resolution",
    "sla_resolution_due_at",
    "sla_resolution_at_risk_at",
    "sla_resolution_at_risk_notified_at",
    "sla_resolution_breached_notified_at",
)
TARGETS = (RESPONSE, RESOLUTION)


# --- Writing (called by services, inside their transaction) ----------------------------


def pauses(ticket: Ticket) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The ticket's pauses as business_time wants them; an open one ends at None."""
    closed: list[tuple[dt.datetime, dt.datetime | None]] = [
        (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
        for start, end in ticket.sla_pauses
    ]
    if ticket.sla_paused_at is not None:
        closed.append((ticket.sla_paused_at, None))
    return closed


def _apply(ticket: Ticket, target: ResolvedTarget | None) -> set[str]:
    """Store the deadlines `target` gives this ticket; returns the fields that changed."""
    before = {name: getattr(ticket, name) for name in SLA_FIELDS}
    if target is None or ticket.status == Status.CANCELLED:
        ticket.sla_policy_id = None
        ticket.sla_policy_name = ""
        for t in TARGETS:
            setattr(ticket, t.due, None)
            setattr(ticket, t.at_risk, None)
    else:
        ticket.sla_policy_id = target.policy_id
        ticket.sla_policy_name = target.policy_name
        stops = pauses(ticket)
        if ticket.status in (Status.RESOLVED, Status.CLOSED) and ticket.sla_paused_at:
            # Stopped, not waiting: the due times stay what they were when it stopped (the
            # open pause only matters if it is reopened, which recomputes).
            stops = stops[:-1]
        for t, duration in ((RESPONSE, target.first_response), (RESOLUTION, target.resolution)):
            lines = deadlines(target.calendar, ticket.created_at, duration, stops)
            setattr(ticket, t.due, lines.due_at)
            setattr(ticket, t.at_risk, lines.at_risk_at)
    changed = {name for name in SLA_FIELDS if getattr(ticket, name) != before[name]}
    if "sla_policy_id" in changed:
        changed = (changed - {"sla_policy_id"}) | {"sla_policy"}  # save() wants field names
    return changed


def recompute(ticket: Ticket, *, target=...) -> set[str]:
    """Look the policy up again (`policy_for`: cached until the SLA definitions change)
    and store its deadlines for the ticket."""
    if target is ...:
        target = policy_for(ticket.group_id, ticket.category_id, ticket.priority)
    return _apply(ticket, target)


def status_changed(ticket: Ticket, old_status: str, now: dt.datetime) -> set[str]:
    """Pause or resume the clocks for a status change already set on `ticket`.

    Entering On hold recomputes (the due times are unknown while paused, unless already
    passed); leaving a pausing status closes the pause and recomputes; Resolved and Closed
    keep the due times they had, so "met on time or late" stays visible.
    """
    fields: set[str] = set()
    new_status = ticket.status
    if new_status in PAUSING and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        fields.add("sla_paused_at")
    elif new_status not in PAUSING and ticket.sla_paused_at is not None:
        ticket.sla_pauses = [
            *ticket.sla_pauses,
            [ticket.sla_paused_at.isoformat(), now.isoformat()],
        ]
        ticket.sla_paused_at = None
        fields |= {"sla_paused_at", "sla_pauses"}
    stopped = new_status in (Status.RESOLVED, Status.CLOSED)  # keep the due times they had
    if new_status in (Status.ON_HOLD, Status.CANCELLED) or (old_status in PAUSING and not stopped):
        fields |= recompute(ticket)
    return fields


def describe(ticket: Ticket, target: Target) -> str:
    """A due time as history text: `2026-11-26 17:30 (Standard)`, or why there is none."""
    if not ticket.sla_policy_name:
        return "No SLA"
    due = getattr(ticket, target.due)
    when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "paused"
    return f"{when} ({ticket.sla_policy_name})"


# --- Reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetView:
    target: Target
    due_at: dt.datetime | None
    state: SlaState

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def target_views(ticket: Ticket, now: dt.datetime | None = None) -> list[TargetView]:
    """Both targets with their state now; empty when the ticket has no SLA. No queries."""
    if not ticket.sla_policy_name:
        return []
    now = now or timezone.now()
    views = []
    for t in TARGETS:
        lines = Deadlines(at_risk_at=getattr(ticket, t.at_risk), due_at=getattr(ticket, t.due))
        views.append(TargetView(t, lines.due_at, state(lines, now, met_at=t.met_at(ticket))))
    return views


def ticket_state(ticket: Ticket, now: dt.datetime | None = None) -> SlaState | None:
    """The worse of the two targets' states (the list badge); None without an SLA."""
    return worst_state(target_views(ticket, now))


def worst_state(views: list[TargetView]) -> SlaState | None:
    """The worse state among `views` (from `target_views`), for callers that have them."""
    states = {view.state for view in views}
    return next((s for s in STATE_ORDER if s in states), None)


def next_due(ticket: Ticket) -> dt.datetime | None:
    """The due time still ahead of the ticket: first response until answered, then resolution."""
    for t in TARGETS:
        if t.met_at(ticket) is None:
            return getattr(ticket, t.due)
    return None


def _target_state_q(t: Target, s: SlaState, now: dt.datetime) -> Q:
    """The rows where target `t` is in state `s` at `now`; mirrors clock.state."""
    met = {f"{t.key}_met_at__isnull": True}  # annotation added by state_expression
    pending = Q(**met)
    met_q = ~Q(**met)
    due_null = Q(**{f"{t.due}__isnull": True})
    late = Q(**{f"{t.key}_met_at__gt": F(t.due)})
    if s == SlaState.BREACHED:
        return (met_q & late) | (pending & Q(**{f"{t.due}__lte": now}))
    if s == SlaState.AT_RISK:
        return pending & Q(**{f"{t.at_risk}__lte": now})
    if s == SlaState.PAUSED:
        return pending & due_null
    if s == SlaState.ON_TRACK:
        return pending
    return met_q


def annotate_state(queryset, now: dt.datetime | None = None):
    """Add `sla_state` (the list badge, as SQL) and `sla_next_due_at` to a ticket queryset.

    One CASE expression, first match wins in STATE_ORDER, so filtering by it is a WHERE
    on the same query (no extra query, no per-row Python).
    """
    now = now or timezone.now()
    queryset = queryset.annotate(
        **{f"{t.key}_met_at": t.met_expression() for t in TARGETS},
    )
    whens = [
        When(
            Q(sla_policy_name__gt="")
            & (_target_state_q(RESPONSE, s, now) | _target_state_q(RESOLUTION, s, now)),
            then=Value(s.value),
        )
        for s in STATE_ORDER
    ]
    return queryset.annotate(
        sla_state=Case(*whens, default=Value(""), output_field=CharField()),
        sla_next_due_at=Case(
            When(response_met_at__isnull=True, then=F(RESPONSE.due)),
            When(resolution_met_at__isnull=True, then=F(RESOLUTION.due)),
            default=None,
        ),
    )
