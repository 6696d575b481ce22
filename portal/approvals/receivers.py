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


def on_user_deactivated(sender, *, user, **kwargs) -> None:
    """Someone who can no longer sign in decides nothing: their pending parts pass on
    (to their delegate, or the admins on triage duty). Same transaction as the change."""
    services.approvals_hand_on(user=user)
