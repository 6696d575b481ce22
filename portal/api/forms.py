"""The form on /settings/tokens."""

from django import forms

from portal.api import tokens

EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=tokens.NAME_MAX,
        help_text="What uses it, e.g. “nightly export script”.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="30",
    )
