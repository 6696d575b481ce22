"""`{% ticket_rating ticket %}`: the satisfaction part of the ticket page (one query, none
for a ticket that has no ratings)."""

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from portal.csat import selectors
from portal.lib.partials import EMPTY_PART, render_partial
from portal.tickets import page_facts

register = template.Library()

TEMPLATE = "csat/_ticket_rating.html"
# What the template writes with no ratings and no form to offer (most tickets, most
# viewers): its text around the condition.
NOTHING = EMPTY_PART


@register.simple_tag(takes_context=True)
def ticket_rating(context: template.Context, ticket) -> SafeString:
    """csat/_ticket_rating.html, as an inclusion tag rendered it; with nothing to show, its
    text without rendering it."""
    user = context["request"].user
    # None at all (the page's read of the ticket says so): no query.
    ratings = []
    if not page_facts.known_empty(ticket, "ratings"):
        ratings = list(selectors.ratings_on(user, ticket))
    can_rate = selectors.may_rate_now(user, ticket, ratings, timezone.now())
    if not ratings and not can_rate:
        return NOTHING
    values = {
        "ticket": ticket,
        "ratings": ratings,
        "is_requester": ticket.requester_id == user.pk,
        "can_rate": can_rate,
        "csrf_token": context.get("csrf_token"),
    }
    return render_partial(context, TEMPLATE, values)
