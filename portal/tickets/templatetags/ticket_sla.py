"""Service-level badges for ticket lists and the ticket page (no queries: stored fields)."""

from django import template
from django.utils import timezone

from portal.tickets import sla

register = template.Library()


@register.inclusion_tag("tickets/_sla_cell.html")
def sla_cell(ticket, now=None):
    """The list cell: the next due time and the ticket's (worse) state."""
    state = sla.ticket_state(ticket, now)
    return {
        "due": sla.next_due(ticket),
        "state": state,
        "label": sla.STATE_LABELS[state] if state else "",
    }


@register.inclusion_tag("tickets/_sla_facts.html")
def sla_facts(ticket):
    """The ticket page's facts: each target's due time with its state."""
    return {"targets": sla.target_views(ticket, timezone.now()), "ticket": ticket}
