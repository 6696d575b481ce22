"""The canned-reply form: validates shape; the services decide permissions."""

from django import forms

from portal.replies.models import BODY_MAX, TITLE_MAX

PERSONAL = "personal"


class ReplyForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        label="Reply",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown, with the placeholders listed below.",
    )
    # "personal" or a team's id; choices are set from the teams the person may share to.
    scope = forms.ChoiceField(label="Who can use it", required=False)

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["scope"]  # editing: a reply keeps its owner or team
            return
        self.teams = {str(team.pk): team for team in teams}
        self.fields["scope"].choices = [(PERSONAL, "Only me")] + [
            (pk, f"Team {team.name}") for pk, team in self.teams.items()
        ]
        self.fields["scope"].initial = PERSONAL

    def team(self):
        """The chosen team, or None for a personal reply (call after is_valid)."""
        return self.teams.get(self.cleaned_data.get("scope") or PERSONAL)
