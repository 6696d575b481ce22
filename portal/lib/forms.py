"""Putting a service's refusal back on the form that fed it."""

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's `ValidationError` on `form`: each error under the field it names
    when the form has that field, the rest (and errors naming no field) above the form.

    Services raise `ValidationError({"name": "…"}, code=…)` for bad input (CONTRIBUTING.md,
    "Errors"); this is the one place a page turns that into form errors.
    """
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
