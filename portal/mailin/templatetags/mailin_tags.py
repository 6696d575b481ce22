"""`{% ticket_mail ticket %}`: the emails a ticket was raised or answered with, as they
arrived, for the people who work it (one query for them when it has any, none for anyone
else)."""

from django import template

from portal.mailin.models import InboundMessage
from portal.tickets import access, page_facts

register = template.Library()


@register.inclusion_tag("mailin/_ticket_mail.html", takes_context=True)
def ticket_mail(context, ticket) -> dict:
    user = context["request"].user
    # None at all (the page's read of the ticket says so): no query.
    if not access.is_worker(user, ticket) or page_facts.known_empty(ticket, "mail"):
        return {"messages": []}
    messages = list(
        InboundMessage.objects.filter(ticket_id=ticket.pk)
        .exclude(raw_key="")
        .order_by("received_at", "pk")
        .only("pk", "sender", "subject", "outcome", "received_at", "raw_sha256", "raw_size")
    )
    return {"messages": messages}
