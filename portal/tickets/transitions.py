"""The ticket lifecycle: which status changes each role may make.

Explicit tables rather than rules in code, so the lifecycle can be read (and reviewed)
at a glance and tested cell by cell. A user holding several roles on a ticket (say the
requester who is also in the ticket's team) may make the union of their roles' moves.
"""

import datetime as dt

from django.utils import timezone

from portal.accounts.roles import ADMIN, AGENT, LEAD, REQUESTER, SPOC
from portal.tickets.models import Status, Ticket

AWAITING = Status.AWAITING
NEW, IN_PROGRESS, ON_HOLD = Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD
RESOLVED, CLOSED, CANCELLED = Status.RESOLVED, Status.CLOSED, Status.CANCELLED

# How long after resolution a requester may reopen instead of raising a new ticket.
REOPEN_WINDOW = dt.timedelta(days=7)

# People working a ticket move it through the work states. Closed and cancelled are final
# for them; only an admin brings such a ticket back.
_WORK = {
    NEW: {IN_PROGRESS, ON_HOLD, RESOLVED, CANCELLED},
    IN_PROGRESS: {ON_HOLD, RESOLVED, CANCELLED},
    ON_HOLD: {IN_PROGRESS, RESOLVED, CANCELLED},
    RESOLVED: {IN_PROGRESS, CLOSED},
    CLOSED: set(),
    CANCELLED: set(),
}

# Awaiting approval is left only by the approvers' decisions (portal/approvals), never by
# a status change: nobody moves a ticket into it or past it by hand. Cancelling it (the
# requester changed their mind, an admin cleans up) is the one move allowed.
_MANUAL_TARGETS = frozenset(set(Status.values) - {AWAITING})

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    REQUESTER: {
        AWAITING: frozenset({CANCELLED}),
        # Cancel their own ticket while nobody has started on it.
        NEW: frozenset({CANCELLED}),
        # Not fixed after all (within REOPEN_WINDOW), or confirm it is.
        RESOLVED: frozenset({IN_PROGRESS, CLOSED}),
    },
    AGENT: {source: frozenset(targets) for source, targets in _WORK.items()},
    LEAD: {source: frozenset(targets) for source, targets in _WORK.items()},
    SPOC: {source: frozenset(targets) for source, targets in _WORK.items()},
    ADMIN: {
        **{source: _MANUAL_TARGETS - {source} for source in Status.values},
        AWAITING: frozenset({CANCELLED}),
    },
}


# States a ticket's workers no longer move it out of.
FINAL = frozenset({CLOSED, CANCELLED})


def requester_only(roles: frozenset[str]) -> bool:
    """The requester, with no role that works the ticket."""
    return roles == frozenset({REQUESTER})


def reopen_deadline(ticket: Ticket) -> dt.datetime | None:
    """Until when the requester may bring a resolved or closed ticket back: REOPEN_WINDOW
    after its resolution (or its closing, for one closed without being resolved)."""
    since = ticket.resolved_at or ticket.closed_at
    return since + REOPEN_WINDOW if since else None


def comment_reopens(ticket: Ticket, *, now: dt.datetime | None = None) -> bool:
    """Whether the requester's comment on `ticket` reopens it: a closed ticket, within
    the window. (On a resolved ticket a comment may be a thank-you: reopening there is
    the explicit "Reopen" action.)"""
    deadline = reopen_deadline(ticket)
    return ticket.status == CLOSED and deadline is not None and (now or timezone.now()) <= deadline


def _requester_may(ticket: Ticket, target: str, now: dt.datetime) -> bool:
    if ticket.status == RESOLVED and target == IN_PROGRESS:
        return ticket.resolved_at is not None and now - ticket.resolved_at <= REOPEN_WINDOW
    return True


def allowed_targets(
    roles: frozenset[str], ticket: Ticket, *, now: dt.datetime | None = None
) -> list[str]:
    """Statuses `ticket` may move to for someone holding `roles` on it, in lifecycle order."""
    now = now or timezone.now()
    allowed: set[str] = set()
    for role in roles:
        for target in TRANSITIONS.get(role, {}).get(ticket.status, ()):
            if role == REQUESTER and not _requester_may(ticket, target, now):
                continue
            allowed.add(target)
    return [value for value in Status.values if value in allowed]


def is_allowed(
    roles: frozenset[str], ticket: Ticket, target: str, *, now: dt.datetime | None = None
) -> bool:
    return target in allowed_targets(roles, ticket, now=now)
