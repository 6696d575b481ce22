"""`{% ticket_links ticket %}`: the links part of the ticket page (one query, none for a
ticket with no links)."""

from django import template

from portal.links.models import LinkKind
from portal.links.selectors import page_links
from portal.tickets import access, page_facts

register = template.Library()


@register.inclusion_tag("links/_ticket_links.html", takes_context=True)
def ticket_links(context, ticket) -> dict:
    user = context["request"].user
    return {
        "ticket": ticket,
        # None at all (the page's read of the ticket says so): no query.
        "links": [] if page_facts.known_empty(ticket, "links") else page_links(user, ticket),
        "can_link": access.is_worker(user, ticket),
        "kinds": LinkKind.choices,
        "csrf_token": context.get("csrf_token"),
    }
