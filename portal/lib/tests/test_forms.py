"""A service's ValidationError lands on the form: under the field it names, else on top."""

from django import forms
from django.core.exceptions import ValidationError

from portal.lib.forms import add_service_errors


class NameForm(forms.Form):
    name = forms.CharField()


def _bound() -> NameForm:
    form = NameForm({"name": "Team A"})
    assert form.is_valid()
    return form


def test_an_error_naming_a_field_of_the_form_is_shown_under_that_field():
    form = _bound()
    taken = ValidationError("The name is taken.", code="duplicate")
    add_service_errors(form, ValidationError({"name": taken}))
    assert form.errors == {"name": ["The name is taken."]}
    assert form.errors.as_data()["name"][0].code == "duplicate"


def test_an_error_naming_a_field_the_form_lacks_is_shown_above_the_form():
    form = _bound()
    add_service_errors(form, ValidationError({"code": "The code is taken."}))
    assert form.non_field_errors() == ["The code is taken."]


def test_an_error_naming_no_field_is_shown_above_the_form():
    form = _bound()
    add_service_errors(form, ValidationError("Try again."))
    assert form.non_field_errors() == ["Try again."] and not form.is_valid()
