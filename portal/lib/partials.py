"""A part of a page that a tag writes: its template rendered in the tag's context, or, when
the part shows nothing, the text its template would have written without rendering it."""

from django import template
from django.utils.safestring import SafeString, mark_safe

# What a part's template writes when its {% if %} shows nothing: the newlines around it.
EMPTY_PART = mark_safe("\n\n")  # noqa: S308 (a fixed string)


def render_partial(context: template.Context, name: str, values: dict) -> SafeString:
    """Template `name` rendered with `values` in a new layer of `context` (with the engine
    of the template being rendered, as `{% include %}` would)."""
    engine = context.template.engine if context.template is not None else None
    found = (engine or template.Engine.get_default()).get_template(name)
    return SafeString(found.render(context.new(values)))
