"""Signals for apps that store results computed from SLA definitions.

The tickets app stores due times computed from a calendar and a policy; when either
changes, those are stale. sla cannot import tickets (tickets → sla), so it announces the
change and tickets decides what to recompute (typically: enqueue a task with the ids).
"""

from django.db import transaction
from django.dispatch import Signal

from portal.sla import invalidation

# Sent after the transaction commits, with keyword arguments `calendar_ids` and
# `policy_ids` (frozensets of primary keys; either may be empty).
sla_definitions_changed = Signal()


def announce_change(*, calendar_ids=(), policy_ids=()) -> None:
    """Send `sla_definitions_changed` once the current transaction commits (never for a
    change that rolls back)."""
    # Cached policies and calendars go stale now (bulk writes send no model signals).
    invalidation.definitions_changed()
    calendars, policies = frozenset(calendar_ids), frozenset(policy_ids)
    transaction.on_commit(
        lambda: sla_definitions_changed.send(
            sender=None, calendar_ids=calendars, policy_ids=policies
        )
    )
