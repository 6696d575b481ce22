"""`{% ticket_links ticket %}`: the links part of the ticket page (one query, none for a
ticket with no links)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.lib.partials import EMPTY_PART, render_partial
from portal.links.models import LinkKind
from portal.links.selectors import page_links
from portal.tickets import access, page_facts
from portal.tickets.detail_html import csrf_input, number_urls

register = template.Library()

TEMPLATE = "links/_ticket_links.html"


@register.simple_tag(takes_context=True)
def ticket_links(context: template.Context, ticket) -> SafeString:
    """links/_ticket_links.html, as an inclusion tag rendered it; a ticket with no links
    (most: the page's read says so) gets the same HTML written here, without the template:
    nothing, or the form that adds one for the people working it."""
    user = context["request"].user
    # None at all (the page's read of the ticket says so): no query.
    links = [] if page_facts.known_empty(ticket, "links") else page_links(user, ticket)
    can_link = access.is_worker(user, ticket)
    token = context.get("csrf_token")
    if not links:
        return _no_links_html(ticket.number, can_link=can_link, csrf_token=token)
    values = {
        "ticket": ticket,
        "links": links,
        "can_link": can_link,
        "kinds": LinkKind.choices,
        "csrf_token": token,
    }
    return render_partial(context, TEMPLATE, values)


def _no_links_html(number: str, *, can_link: bool, csrf_token: object) -> SafeString:
    """The template's text for a ticket with no links."""
    if not can_link:
        return EMPTY_PART
    # What {% csrf_token %} writes: nothing without a token (or Django's "not provided").
    given = bool(csrf_token) and csrf_token != "NOTPROVIDED"  # noqa: S105 (a marker, no secret)
    csrf = csrf_input(str(csrf_token)) if given else ""
    options = "".join(
        f'<option value="{escape(value)}">{escape(label)}</option>'
        for value, label in LinkKind.choices
    )
    return mark_safe(  # noqa: S308 (every value escaped above)
        "\n\n"
        '<section class="card" id="links" aria-labelledby="links-heading">\n'
        '  <h2 id="links-heading">Linked tickets</h2>\n'
        "  \n"
        "  \n"
        f'  <form method="post" action="{number_urls(number)("ticket-link-add")}">\n'
        f"    {csrf}\n"
        '    <div class="field"><label for="link-kind">This ticket</label>\n'
        f'      <select id="link-kind" name="kind">{options}</select></div>\n'
        '    <div class="field"><label for="link-target">Ticket number</label>\n'
        '      <input id="link-target" name="target" required maxlength="40" '
        'placeholder="TKT-000123"></div>\n'
        '    <button type="submit">Link</button>\n'
        "  </form>\n"
        "  \n"
        "</section>\n"
        "\n"
    )
