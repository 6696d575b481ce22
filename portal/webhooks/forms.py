"""The admin's webhook form: a plain Form (the service validates and writes)."""

from django import forms

from portal.catalog.models import Team
from portal.webhooks.models import Event, Format


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where events are POSTed. Redirects are not followed.",
    )
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)
    format = forms.ChoiceField(choices=Format.choices, initial=Format.STANDARD)
    team = forms.ModelChoiceField(
        queryset=Team.objects.active().order_by("name"),
        required=False,
        empty_label="Every team (organisation-wide)",
        help_text="Only tickets in this team (after the change).",
    )
    include_internal = forms.BooleanField(
        required=False,
        label="Include internal notes",
        help_text="Internal notes and the events about them; only for receivers inside the "
        "organisation.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class AllowedHostForm(forms.Form):
    host = forms.CharField(max_length=253, help_text="A host name or IP address, no port.")
    note = forms.CharField(max_length=200, required=False, help_text="Why it may be private.")
