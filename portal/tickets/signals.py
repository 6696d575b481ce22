"""What the ticket services tell other apps after every change, inside its transaction.

`ticket_changed` is sent by every service that writes a ticket (`services._History.save`),
after the ticket row and its history events are written and before the transaction
commits, so a receiver's writes commit or roll back with the change. Arguments:

- `ticket`: the ticket as saved;
- `before`: `snapshot(ticket)` taken when the change began, or None for a new ticket;
- `events`: the TicketEvent rows this change wrote.

Apps above tickets (analytics keeps its rollup exact with it; webhooks queue their
deliveries with it) connect to the signal;
tickets never imports them. Writes that bypass the services (QuerySet.update, bulk loads,
data migrations, the demo loader's re-dating) send nothing: whoever does them rebuilds
what depends on them (`manage.py analytics_rollup`).
"""

from django.dispatch import Signal

ticket_changed = Signal()

# Sent by SLA escalation (`sla_jobs.escalate`) inside the transaction that claims a
# ticket's marker, once per ticket, target and line. Arguments: `ticket`, `target` (the
# target's key: "response" | "resolution") and `line` ("at_risk" | "breached").
sla_crossed = Signal()

# The fields a receiver may compare between `before` and the saved ticket.
SNAPSHOT_FIELDS = (
    "status",
    "priority",
    "group_id",
    "category_id",
    "subcategory_id",
    "team_id",
    "assignee_id",
    "created_at",
    "first_response_at",
    "resolved_at",
)


def snapshot(ticket) -> dict:
    """The ticket's SNAPSHOT_FIELDS as a plain dict (cheap: no query)."""
    return {name: getattr(ticket, name) for name in SNAPSHOT_FIELDS}
