"""Template filters for ticket pages."""

from django import template
from django.core.cache import cache
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from portal.catalog.invalidation import MASTERS
from portal.lib import markdown
from portal.lib.cache_versions import versioned_key
from portal.tickets import history

register = template.Library()
FILTER_SECONDS = 24 * 3600


@register.filter
def render_markdown(text: str) -> str:
    """Sanitised HTML from Markdown; see portal/lib/markdown.py for the two layers."""
    return mark_safe(markdown.render(text))  # noqa: S308 (sanitised by nh3 just above)


@register.filter
def event_sentence(event) -> str:
    """A history row as plain text (autoescaped): see portal/tickets/history.py."""
    return history.sentence(event)


@register.filter
def event_old(event) -> str:
    return history.old_label(event)


@register.filter
def event_new(event) -> str:
    return history.new_label(event)


# Filter fields whose rendering depends on more than the master data and the field itself
# (the view offered to this role, the chosen group's categories, the category's form).
_PER_REQUEST_FIELDS = frozenset({"view", "category", "subcategory", "answer"})


@register.simple_tag(takes_context=True)
def filter_field(context, field):
    """One filter of the ticket list (tickets/_filter_field.html).

    A filter left empty renders the same for everyone until master data changes, so its
    HTML is cached under the "masters" version (portal/catalog/invalidation.py): the list
    opens without querying groups and teams for their selects or rendering a few hundred
    options each time (a quarter of the list's time in the profile, docs/benchmarks.md).
    """
    render = get_template("tickets/_filter_field.html").render
    values = {"field": field, "form": field.form}
    if field.name in _PER_REQUEST_FIELDS or field.errors or field.value() not in (None, "", []):
        return render(values)
    key = versioned_key(MASTERS, "ticket-filter", field.name)
    html = cache.get(key)
    if html is None:
        html = render(values)
        cache.set(key, html, FILTER_SECONDS)
    return mark_safe(html)  # noqa: S308 (rendered by the template above, autoescaped)
