"""`PythonWidgets` writes exactly what Django's widget templates write."""

from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st

from portal.lib.widget_html import PYTHON_WIDGETS, WRITERS, flat_select_html

DJANGO = DjangoTemplates()
TRICKY = ["a <b> & \"c\" 'd'", "", " spaced ", "é ✓", "&amp;", "\n"]


def both(widget, name, value, attrs=None):
    """Django's rendering and this renderer's (or the error each raises)."""

    def render(renderer):
        try:
            return widget.render(name, value, attrs=attrs, renderer=renderer)
        except Exception as error:  # noqa: BLE001 (a widget refusing a value: compared too)
            return type(error)

    return render(DJANGO), render(PYTHON_WIDGETS)


def choices():
    return [
        ("", "Nobody"),
        (1, "Anna <Nagy>"),
        ("b&c", mark_safe("<em>safe</em>")),  # noqa: S308 (a safe label stays as it is)
        (3, gettext_lazy("Closed")),
        ("Group & co", [(4, "four"), (5, "five")]),
        (None, "none"),
    ]


WIDGETS = [
    forms.TextInput(attrs={"maxlength": 10, "placeholder": 'say "hi"', "data-x": True}),
    forms.HiddenInput(),
    forms.NumberInput(attrs={"min": 0}),
    forms.EmailInput(),
    forms.CheckboxInput(),
    forms.FileInput(attrs={"data-attachments": "", "hidden": False}),
    forms.Textarea(attrs={"rows": 4}),
    forms.Select(choices=choices(), attrs={"required": True}),
    forms.SelectMultiple(choices=choices()),
    forms.NullBooleanSelect(),
]
VALUES = [None, "", 0, 1, True, False, "1", ["1", "b&c"], ("4",), mark_safe("<b>x</b>"), *TRICKY]  # noqa: S308


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_standard_widget_renders_as_djangos_templates(widget, value):
    django_html, python_html = both(widget, "field", value, attrs={"id": "id_field"})
    assert python_html == django_html


@given(st.text(), st.text(min_size=1))
def test_any_text_is_escaped_as_the_templates_escape_it(value, label):
    widget = forms.Select(choices=[(value, label), ("x", value)])
    django_html, python_html = both(widget, label, value, attrs={"title": value})
    assert python_html == django_html
    assert _flat(widget, label, value, {"title": value}) == django_html
    for other in (forms.TextInput(), forms.Textarea()):
        django_html, python_html = both(other, "q", value)
        assert python_html == django_html


def test_widgets_it_does_not_write_go_to_djangos_templates():
    widget = forms.RadioSelect(choices=[(1, "one"), (2, "two")])
    django_html, python_html = both(widget, "pick", 1)
    assert python_html == django_html and 'type="radio"' in python_html


def test_a_whole_form_renders_the_same():
    class Form(forms.Form):
        name = forms.CharField(max_length=20, help_text="Your name")
        team = forms.ChoiceField(choices=[("", "Choose"), (1, "A & B")])
        note = forms.CharField(widget=forms.Textarea, required=False)
        agree = forms.BooleanField()

    for data in (None, {"name": "<x>", "team": "1", "note": "hi"}):
        assert str(Form(data, renderer=PYTHON_WIDGETS)) == str(Form(data, renderer=DJANGO))


def test_the_templates_it_replaces_are_djangos_own():
    # An app overriding one of these templates would change Django's rendering but not this
    # renderer's.
    own = Path(django.__file__).parent / "forms" / "templates"
    for name in WRITERS:
        origin = Path(DJANGO.get_template(name).template.origin.name)
        assert origin.is_relative_to(own), name


# --- includes/field.html in Python (`field_html`) -------------------------------------


class _Hostile(forms.Form):
    """Every kind of field the pages show, with labels, help and values that need escaping."""

    text = forms.CharField(label='Name <b>&"', help_text="Use <i>this</i> & that")
    note = forms.CharField(widget=forms.Textarea, required=False, label="Note")
    agree = forms.BooleanField(label="I <agree>", required=False, help_text="'quoted'")
    kind = forms.ChoiceField(choices=[("a", "A <a>"), ("b", "B & b")], label="Kind")
    safe_help = forms.CharField(required=False, help_text=mark_safe("<em>kept</em>"))  # noqa: S308
    files = forms.FileField(required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)


def _field_forms():
    from portal.tickets.forms import CommentForm, FilesForm

    yield _Hostile()
    yield _Hostile(renderer=PYTHON_WIDGETS)
    bound = _Hostile(data={"text": "<script>alert(1)</script>", "kind": "zzz\"'<>"})
    bound.is_valid()
    bound.add_error("note", 'A file "<img src=x onerror=alert(1)>.png" was refused & more')
    yield bound
    yield _Hostile(auto_id="custom_%s", prefix="p")
    yield CommentForm(renderer=PYTHON_WIDGETS)
    yield FilesForm(renderer=PYTHON_WIDGETS)
    refused = CommentForm(data={"body": ""}, renderer=PYTHON_WIDGETS)
    refused.is_valid()
    yield refused


def test_field_html_writes_what_the_field_include_writes_for_every_kind_of_field():
    from django.template.loader import get_template

    from portal.lib.widget_html import field_html

    include = get_template("includes/field.html")
    compared = 0
    for form in _field_forms():
        for name in form.fields:
            field = form[name]
            assert field_html(field) == include.render({"field": field}), (form, name)
            compared += 1
    assert compared > 20


def test_field_html_escapes_what_a_person_typed_and_error_texts():
    from portal.lib.widget_html import field_html

    bound = _Hostile(data={"text": "<script>alert(1)</script>"})
    bound.is_valid()
    bound.add_error("note", "<img src=x onerror=alert(1)>")
    html = field_html(bound["text"]) + field_html(bound["note"])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def _flat(widget, name, value, attrs):
    """`flat_select_html` given what the bound field would give the widget."""
    values = widget.format_value(value)
    return flat_select_html(name, widget.build_attrs(widget.attrs, attrs), widget.choices, values)


FLAT = [
    [choice for choice in choices() if not isinstance(choice[1], list)],
    [(1, "one"), (1, "one again"), (None, "none"), ("1", "text one")],
]


@pytest.mark.parametrize("flat", FLAT)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_flat_select_written_from_its_choices_is_what_djangos_templates_write(flat, value):
    widget = forms.Select(choices=flat)
    attrs = {"required": True, "id": "id_field"}
    assert _flat(widget, "field", value, attrs) == both(widget, "field", value, attrs)[0]


def test_a_select_with_groups_is_not_written_from_its_choices():
    assert _flat(forms.Select(choices=choices()), "field", "1", {}) is None
