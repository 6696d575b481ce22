"""A form renderer that writes Django's standard widgets in Python, for busy pages.

Django renders each widget through its templates: a <select> of fifty options is more
than a hundred template renders (each option, and each option's attributes), and the
ticket page's action forms spent a fifth of its time there. `PythonWidgets` writes the
same markup as Django's own templates for the inputs, the textarea and the select (the
tests compare them byte for byte) and hands any other template to Django. A form uses it
when built with `renderer=PYTHON_WIDGETS`.

Values are escaped as the templates escape them: text through `conditional_escape` after
the template engine's localisation, attribute values through the `stringformat:'s'` the
templates apply.
"""

from collections.abc import Callable, Mapping
from html import escape as escape_text
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, SafeString, mark_safe

# What the templates' autoescaping context does to a value (localisation, escaping).
_CONTEXT = Context(autoescape=True)


def _text(value: Any) -> str:
    """`{{ value }}` in a template. Plain text (the most common value, a `str` and not a
    safe or lazy one) is what the engine makes of it, escaped by `html.escape` as
    `django.utils.html.escape` does, without the engine's checks (a third of a select's
    cost)."""
    if type(value) is str:
        return escape_text(value)
    return render_value_in_context(value, _CONTEXT)


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` in a template (a filter that keeps safe strings safe)."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)  # noqa: UP031 (the filter's own formatting)
    except (ValueError, TypeError):
        text = ""
    return _text(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308 (was safe already)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(
            f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        )
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html (and the text, hidden, checkbox, file… that include it)."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    kind, name = _text(widget["type"]), _text(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict[str, Any]) -> str:
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _select(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/select.html with its select_option.html; None when an option
    has a template of its own."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "text", "hidden", "checkbox", "file", "number", "email", "url", "password",
        "date", "datetime", "time", "color", "search", "tel",
    )
}  # fmt: skip
WRITERS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **dict.fromkeys(_INPUT_TEMPLATES, _input),
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
}


class PythonWidgets(DjangoTemplates):
    """Django's template renderer, except for the standard widgets it writes itself."""

    def render(self, template_name, context, request=None):
        writer = WRITERS.get(template_name)
        if writer is not None and "widget" in context:
            html = writer(context["widget"])
            if html is not None:
                return html.strip()
        return super().render(template_name, context, request)


PYTHON_WIDGETS = PythonWidgets()


def flat_select_html(
    name: str, attrs: Mapping[str, Any], choices: Any, values: list[str]
) -> str | None:
    """A `Select` of flat `choices` with the attributes `attrs` (as the bound field gives
    them) and `values` (`format_value`'s strings) selected, as Django's templates write it
    (`_select` of `ChoiceWidget.get_context`), from the choices themselves: for a page
    that shows a select without building its form, whose option dictionaries (a copy of
    the attributes per option) cost more than writing them. None for choices in groups."""
    parts = [f'<select name="{_text(name)}"{_attrs(attrs)}>']
    chosen = False  # only the first option with the value is selected (optgroups)
    for option_value, label in choices:
        if isinstance(label, list | tuple):
            return None
        option_value = "" if option_value is None else option_value
        selected = not chosen and str(option_value) in values
        chosen |= selected
        parts.append(
            f'\n  <option value="{_formatted(option_value)}"{" selected" if selected else ""}>'
            f"{_text(label)}</option>\n"
        )
    parts.append("\n</select>")
    return "".join(parts).strip()


def field_html(field: Any) -> SafeString:
    """What templates/includes/field.html writes for a bound field, byte for byte (its
    tests compare the two): the label, the widget, the help text and the errors, every
    value escaped as `{{ }}` escapes it. The ticket page shows five fields; each include
    cost more than the widget inside it."""
    errors = field.errors
    if getattr(field.field.widget, "input_type", None) == "checkbox":
        control = f'\n    <label class="checkbox">{_text(field)} {_text(field.label)}</label>\n  '
    else:
        control = (
            f'\n    <label for="{_text(field.id_for_label)}">{_text(field.label)}</label>\n'
            f"    {_text(field)}\n  "
        )
    auto_id = _text(field.auto_id)
    help_text = (
        f'<p class="help" id="{auto_id}_helptext">{_text(field.help_text)}</p>'
        if field.help_text
        else ""
    )
    shown = "".join(f'<p class="error" id="{auto_id}_error">{_text(e)}</p>' for e in errors)
    return mark_safe(  # noqa: S308 (every value escaped above)
        f'\n<div class="field{" has-error" if errors else ""}">\n  {control}\n'
        f"  {help_text}\n  {shown}\n</div>\n"
    )
