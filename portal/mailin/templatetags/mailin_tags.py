"""`{% ticket_mail ticket %}`: the emails a ticket was raised or answered with, as they
arrived, for the people who work it (one query for them when it has any, none for anyone
else)."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from portal.lib.partials import render_partial
from portal.mailin.models import InboundMessage
from portal.tickets import access, page_facts

register = template.Library()

TEMPLATE = "mailin/_ticket_mail.html"
# What the template writes with no messages (most tickets): its text after the condition.
NOTHING = mark_safe("\n")  # noqa: S308 (a fixed string)


@register.simple_tag(takes_context=True)
def ticket_mail(context: template.Context, ticket) -> SafeString:
    """mailin/_ticket_mail.html, as an inclusion tag rendered it; with no messages, its
    text without rendering it."""
    user = context["request"].user
    # None at all (the page's read of the ticket says so): no query.
    if not access.is_worker(user, ticket) or page_facts.known_empty(ticket, "mail"):
        return NOTHING
    messages = list(
        InboundMessage.objects.filter(ticket_id=ticket.pk)
        .exclude(raw_key="")
        .order_by("received_at", "pk")
        .only("pk", "sender", "subject", "outcome", "received_at", "raw_sha256", "raw_size")
    )
    if not messages:
        return NOTHING
    return render_partial(context, TEMPLATE, {"messages": messages})
