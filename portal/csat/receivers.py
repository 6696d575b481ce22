"""Receivers of the tickets app's signals."""

from portal.csat import notify
from portal.tickets.models import Status


def on_ticket_changed(sender, *, ticket, before, events, **kwargs) -> None:
    """A ticket just resolved: ask its requester to rate the resolution (in the same
    transaction as the change, like every notification)."""
    was = before["status"] if before else None
    if ticket.status == Status.RESOLVED and was != Status.RESOLVED and ticket.resolved_at:
        notify.ask(ticket)
