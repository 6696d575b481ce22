"""Forms for the /help pages. They clean input; the services decide permission."""

from django import forms

from portal.catalog.forms import ClassificationFormMixin
from portal.catalog.models import Team
from portal.kb.models import Audience
from portal.kb.services import BODY_MAX, TITLE_MAX
from portal.lib.http import parse_id


class ArticleForm(ClassificationFormMixin, forms.Form):
    """Group → category (the catalog's htmx-refreshed lists); the subcategory is not used."""

    subcategory_empty_label = "Any subcategory"
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Markdown: **bold**, *italic*, lists, `code`, tables and links.",
    )
    owner_team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    audience = forms.ChoiceField(choices=Audience.choices, widget=forms.RadioSelect)
    review_by = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The owner team sees the article in its review list from this day.",
    )
    field_order = ["title", "group", "category", "owner_team", "audience", "review_by", "body"]

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_classification_fields()
        self.fields["category"].required = False
        self.fields["category"].empty_label = "General (no category)"
        del self.fields["subcategory"]
        self.fields["owner_team"].queryset = teams
        self.order_fields(self.field_order)

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "group": data["group"],
            "category": data["category"],
            "owner_team": data["owner_team"],
            "audience": data["audience"],
            "review_by": data["review_by"],
        }


class ImageForm(forms.Form):
    """One image for an article; its content is checked by the service."""

    image = forms.FileField(
        label="Add an image",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
        help_text="PNG, JPEG, GIF or WebP. It is inserted into the text where the cursor is.",
    )


class HelpFilterForm(forms.Form):
    """/help's query string: the search text and the shelf, ids only (an allow-list)."""

    q = forms.CharField(required=False, max_length=200)
    group = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    category = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    after = forms.CharField(required=False, max_length=200)


def suggestion_params(data) -> dict:
    """The new-ticket form's fields as the suggestion box reads them; junk is ignored."""
    return {
        "title": str(data.get("title", ""))[:TITLE_MAX],
        "group_id": parse_id(data.get("group")),
        "category_id": parse_id(data.get("category")),
    }
