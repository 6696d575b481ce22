"""`{% ticket_rating ticket %}`: the satisfaction part of the ticket page (one query, none
for a ticket that has no ratings)."""

from django import template
from django.utils import timezone

from portal.csat import selectors
from portal.tickets import page_facts

register = template.Library()


@register.inclusion_tag("csat/_ticket_rating.html", takes_context=True)
def ticket_rating(context, ticket) -> dict:
    user = context["request"].user
    # None at all (the page's read of the ticket says so): no query.
    ratings = []
    if not page_facts.known_empty(ticket, "ratings"):
        ratings = list(selectors.ratings_on(user, ticket))
    return {
        "ticket": ticket,
        "ratings": ratings,
        "is_requester": ticket.requester_id == user.pk,
        "can_rate": selectors.may_rate_now(user, ticket, ratings, timezone.now()),
        "csrf_token": context.get("csrf_token"),
    }
