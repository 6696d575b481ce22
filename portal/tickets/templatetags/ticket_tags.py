"""Template filters for ticket pages."""

from django import template
from django.utils.safestring import mark_safe

from portal.tickets import markdown

register = template.Library()


@register.filter
def render_markdown(text: str) -> str:
    """Sanitised HTML from Markdown; see portal/tickets/markdown.py for the two layers."""
    return mark_safe(markdown.render(text))  # noqa: S308 (sanitised by nh3 just above)
