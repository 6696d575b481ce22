from django import forms

from portal.approvals.models import COMMENT_MAX, Approver


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[
            (Approver.Decision.APPROVED, "Approve"),
            (Approver.Decision.REJECTED, "Reject"),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Comment (required to reject: the requester reads it)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DelegationForm(forms.Form):
    user = forms.EmailField(
        label="Approver (email)",
        required=False,
        help_text="Admins only: whose approvals; empty means yours.",
    )
    delegate = forms.EmailField(label="Delegate (email)")
    starts_on = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))
