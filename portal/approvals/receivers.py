"""Receivers of the tickets app's signals."""

from portal.approvals import services
from portal.tickets.models import Status


def on_ticket_changed(sender, *, ticket, before, events, **kwargs) -> None:
    """A ticket raised awaiting approval opens its first step; one that leaves "awaiting"
    by a status change (cancelled) closes its steps. Same transaction as the change."""
    if before is None:
        if ticket.status == Status.AWAITING:
            services.approval_open(ticket=ticket)
        return
    if before["status"] == Status.AWAITING and ticket.status == Status.CANCELLED:
        services.approvals_skip(ticket_id=ticket.pk)
