"""The knowledge base's pieces on other apps' pages."""

from django import template
from django.utils.safestring import mark_safe

from portal.kb import deflection, rendering

register = template.Library()


@register.inclusion_tag("kb/_suggestion_box.html", takes_context=True)
def kb_suggestion_box(context):
    """The new-ticket form's suggestion box, with the form's visit id and whether it has
    listed suggestions (both kept when the form re-renders after an error, so a deflection
    it recorded can still be undone)."""
    request = context.get("request")
    posted = deflection.parse_visit(request.POST.get("kb_visit")) if request else None
    return {
        "visit": posted.hex if posted else deflection.new_visit(),
        "shown": "1" if posted and deflection.suggestions_shown(request.POST) else "",
    }


@register.filter
def article_markdown(text: str, available_images) -> str:
    """`body|article_markdown:available_images`: sanitised HTML from an article's Markdown
    (portal/lib/markdown.py: two layers), keeping images only from the portal's own
    article-image addresses, and only those in `available_images`
    (`rendering.available_images`, computed by the view) as pictures."""
    html = rendering.article_html(text, available=available_images)
    return mark_safe(html)  # noqa: S308 (lib/markdown: sanitised, or plain prose)
