"""Template helpers for the catalogue's htmx-wired selects."""

import json

from django import template
from django.forms import BoundField
from django.urls import reverse

register = template.Library()


@register.simple_tag
def dependent_select(field: BoundField, source: BoundField, url_name: str, placeholder: str = ""):
    """Render `field` as a select that reloads its options when `source` changes.

    The select fetches `<option>`s from `url_name` (sending only the source's value) on the
    source's `change`, and also when the source itself was just reloaded, so group →
    category → subcategory cascades without inline script. A reload always follows a new
    parent, under which the old choice is not offered, so `selected` is not sent. A choice
    made while a reload is in flight is not lost: htmx queues the newer request behind it
    (its default for an element without hx-sync), and the last answer wins
    (tests/browser/test_request_form_selects.py).
    """
    source_id = source.auto_id
    param = source.html_name if source.html_name in ("group", "category") else source.name
    attrs = {
        "hx-get": reverse(url_name),
        "hx-trigger": f"change from:#{source_id}, htmx:afterSwap from:#{source_id}",
        "hx-include": f"#{source_id}",
        "hx-target": "this",
        "hx-swap": "innerHTML",
        "hx-params": param,
        "data-source-param": param,
        "aria-live": "polite",
    }
    if placeholder:
        attrs["hx-vals"] = json.dumps({"placeholder": placeholder})
        attrs["hx-params"] = f"{param},placeholder"
    return field.as_widget(attrs={**field.field.widget.attrs, **attrs})


@register.filter
def get_item(mapping: dict, key):
    """`{{ suggestions|get_item:category.pk }}`: dictionary lookup by a variable key."""
    return mapping.get(key) if isinstance(mapping, dict) else None
