"""The form on /settings/tokens."""

from django import forms
from django.conf import settings

from portal.api import tokens

# Offered where API_TOKEN_MAX_DAYS allows; the maximum itself is always offered too.
EXPIRY_DAYS = {7: "7 days", 30: "30 days", 90: "90 days", 180: "180 days", 365: "1 year"}


def expiry_choices() -> list[tuple[str, str]]:
    most = settings.API_TOKEN_MAX_DAYS
    days = sorted({d for d in EXPIRY_DAYS if d <= most} | {most})
    return [(str(d), EXPIRY_DAYS.get(d, f"{d} days")) for d in days]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=tokens.NAME_MAX,
        help_text="What uses it, e.g. “nightly export script”.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        choices=expiry_choices,
        coerce=int,
        help_text="Every token expires; make a new one when it does.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].initial = str(tokens.default_lifetime_days())
