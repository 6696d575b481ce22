"""Template filters for ticket pages."""

import functools
import hashlib
import re

import django
from django import forms, template
from django.core.cache import cache
from django.forms import BoundField
from django.forms.widgets import DateInput, Select, SelectMultiple, TextInput
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal.catalog.invalidation import MASTERS
from portal.lib import markdown
from portal.lib.cache_versions import versioned_key
from portal.lib.memo import VersionMemo
from portal.lib.widget_html import field_html
from portal.tickets import history

register = template.Library()
FILTER_SECONDS = 24 * 3600


@register.filter
def as_field(field) -> str:
    """`{% include "includes/field.html" with field=… %}` written in Python (the same
    bytes; portal/lib/widget_html.field_html), for the ticket page's forms."""
    return field_html(field)


@register.filter
def render_markdown(text: str) -> str:
    """Safe HTML from Markdown; portal/lib/markdown.py says how (its two layers, and the
    plain prose that is its own HTML)."""
    return mark_safe(markdown.render(text))  # noqa: S308 (sanitised, or plain prose)


@register.filter
def event_old(event) -> str:
    return history.old_label(event)


@register.filter
def event_new(event) -> str:
    return history.new_label(event)


# Every option of a select as Django's widget template writes it; values and labels are
# escaped, so neither holds a quote or a ">".
_OPTION = re.compile(r'<option value="([^"]*)"( selected)?>')
_RENDERED = "ticket-filter-html"  # this render's cached filter HTML (render_context)
_TEMPLATE = "tickets/_filter_field.html"
# The widgets whose HTML _with_value knows how to mark, by exact class: a subclass may
# render its value otherwise (CheckboxInput is an Input that writes `checked`, not a value).
_SELECTS = (Select, SelectMultiple)
_INPUTS = (TextInput, DateInput)
# Bump when the filters render different HTML in a way FINGERPRINT cannot see (a change of
# this module's code, or of a template tag the filter template uses).
FILTER_RENDERER_VERSION = 1


@register.simple_tag(takes_context=True)
def filter_field(context, field: BoundField):
    """One filter of the ticket list (tickets/_filter_field.html).

    A filter renders the same for everyone until master data changes, but for the value
    chosen in it. Its HTML with nothing chosen is cached under the "masters" version
    (portal/catalog/invalidation.py), all of the form's in one cache read, and the chosen
    value is marked in a copy of it: the list opens without querying groups and teams or
    rendering their options through form widgets (most of the list's rendering time in
    the profile, docs/benchmarks.md). A field with errors, or whose options are this
    request's own (TicketFilterForm.options_key), is rendered in full.
    """
    form = field.form
    if field.errors:
        return _render(field)
    cached, known = _cached_filters(context, form)
    if field.name not in cached:
        return _render(field)
    key, html = cached[field.name]
    if html is None:
        html = _render(_Unchosen(form, field.field, field.name))
        cache.set(key, html, FILTER_SECONDS)
        cached[field.name] = (key, html)
        known[key] = html
    chosen = _with_value(html, field)
    return _render(field) if chosen is None else mark_safe(chosen)  # noqa: S308 (escaped)


class _Unchosen(BoundField):
    """A filter as it renders with nothing chosen: the form of it that is cached."""

    def value(self):
        return None


def _render(field: BoundField) -> str:
    return get_template(_TEMPLATE).render({"field": field, "form": field.form})


@functools.cache
def _fingerprint(form_class: type[forms.Form]) -> str:
    """Everything besides master data that decides a filter's HTML: cached HTML made by
    another version of the portal (another template, labels, choices or Django's widgets)
    is never served after a deploy."""
    fields = [_described(name, field) for name, field in form_class.base_fields.items()]
    source = get_template(_TEMPLATE).template.source  # type: ignore[attr-defined]
    described = repr((FILTER_RENDERER_VERSION, django.VERSION, source, fields))
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def _described(name: str, field: forms.Field) -> tuple:
    # Static choices only: a queryset's are master data, under its own version.
    choices = getattr(field, "choices", [])
    static = not isinstance(field, forms.ModelChoiceField)
    return (
        name,
        type(field).__name__,
        type(field.widget).__name__,
        str(field.label),
        str(field.help_text),
        sorted(field.widget.attrs.items()),
        str(getattr(field, "empty_label", "")),
        [(str(value), str(label)) for value, label in choices] if static else None,
    )


# This process's filter HTML under the "masters" version the request read: reading it from
# the memory cache again on every list was a tenth of the list's rendering in the profile.
# Keys are bounded by master data (a group's or a category's, once found valid).
_HTML: VersionMemo[str, str] = VersionMemo()


def _cached_filters(context, form) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    """{field name: (cache key, HTML or None)} for the form's cacheable filters, read once
    per render (from the shared cache only when this process has not kept it), and what
    the process keeps under the version read, to add what is rendered now."""
    memo = context.render_context.setdefault(_RENDERED, {})
    if id(form) not in memo:
        keys = {}
        form_class: type[forms.Form] = type(form)
        prefix = versioned_key(MASTERS, "ticket-filter", _fingerprint(form_class))
        for name in form.fields:
            if (options := form.options_key(name)) is not None:
                keys[name] = f"{prefix}:{name}:{options}"
        known = _HTML.under(prefix)
        if lacking := [key for key in keys.values() if key not in known]:
            known.update(cache.get_many(lacking))
        memo[id(form)] = ({name: (key, known.get(key)) for name, key in keys.items()}, known)
    return memo[id(form)]


def _with_value(html: str, field: BoundField) -> str | None:
    """`html` of the unchosen `field` with its value, as Django's widget would render it
    (the same `format_value` and escaping); None (render it in full) for a widget or HTML
    this does not know."""
    widget = field.field.widget
    form = field.form
    if (
        type(widget) in _SELECTS + _INPUTS
        and form.is_bound
        and not field.field.disabled
        and field.html_name not in form.data
    ):
        # Nothing sent for it, so nothing chosen (these widgets read a missing name as
        # None or []): the cached HTML as it is, without formatting an empty value (a
        # date's format is looked up for None too; a tenth of the list's rendering).
        return html
    value = widget.format_value(field.value())
    if type(widget) in _SELECTS + _INPUTS and value == widget.format_value(None):
        # Nothing chosen: the HTML is the cached one as it is (most filters of a page).
        return html
    if type(widget) in _SELECTS:
        # Django's rule (ChoiceWidget.optgroups): the options whose value is chosen, only
        # the first of them for a single select.
        chosen, multiple = {escape(item) for item in value}, widget.allow_multiple_selected
        marked = False

        def mark(option: re.Match) -> str:
            nonlocal marked
            selected = (multiple or not marked) and option[1] in chosen
            marked = marked or selected
            return f'<option value="{option[1]}"{" selected" if selected else ""}>'

        with_value, count = _OPTION.subn(mark, html)
        # An option written otherwise (with other attributes) would keep a stale mark.
        return with_value if count == html.count("<option") else None
    if type(widget) in _INPUTS:
        if value is None:
            return html
        # Django's input template writes the value right after the name.
        name = f'<input type="{widget.input_type}" name="{field.html_name}"'
        if html.count(name) != 1:
            return None
        return html.replace(name, f'{name} value="{escape(value)}"')
    return None
