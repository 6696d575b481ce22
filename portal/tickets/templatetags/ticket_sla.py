"""Service-level facts for the ticket page (no queries: stored fields). The list's SLA
cell is prepared per row in list_views.list_rows."""

from django import template
from django.utils import timezone

from portal.tickets import sla

register = template.Library()


@register.inclusion_tag("tickets/_sla_facts.html")
def sla_facts(ticket):
    """The ticket page's facts: each target's due time with its state."""
    return {"targets": sla.target_views(ticket, timezone.now()), "ticket": ticket}
