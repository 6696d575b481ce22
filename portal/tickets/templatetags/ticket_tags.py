"""Template filters for ticket pages."""

from django import template
from django.utils.safestring import mark_safe

from portal.lib import markdown
from portal.tickets import history

register = template.Library()


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
