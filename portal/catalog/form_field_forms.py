"""The /masters screen's form for request-form fields (writes go through form_services).

Which form a field belongs to is one select: a category (its subcategories inherit the
field) or a single subcategory, as `c<id>` / `s<id>`. Code, type and owner are chosen once;
the edit form leaves them out because they never change (see form_services).
"""

from django import forms
from django.core.exceptions import ValidationError

from portal.catalog.form_services import format_options, parse_options
from portal.catalog.models import ApprovalRule, Category, FormField, Subcategory


def owner_choices() -> list[tuple[str, str]]:
    """Every category and subcategory, grouped as they read (two queries)."""
    choices = []
    subs: dict[int, list[Subcategory]] = {}
    for sub in Subcategory.objects.order_by("name_key"):
        subs.setdefault(sub.category_id, []).append(sub)
    for category in Category.objects.select_related("group").order_by(
        "group__name_key", "name_key"
    ):
        prefix = f"{category.group.name} / {category.name}"
        choices.append((f"c{category.pk}", f"{prefix} (and its subcategories)"))
        choices += [(f"s{sub.pk}", f"{prefix} / {sub.name}") for sub in subs.get(category.pk, [])]
    return choices


def owner_value(row: FormField | ApprovalRule) -> str:
    """Where a form field or an approval step sits, as the owner select's value."""
    return f"s{row.subcategory_id}" if row.subcategory_id else f"c{row.category_id}"


class OwnerSelectForm(forms.Form):
    """A form whose `owner` select says where a row sits: a category (its subcategories
    too) or a single subcategory, `c<id>` / `s<id>`; cleaned to the Category or
    Subcategory (request-form fields and approval steps)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Choose a category or subcategory"), *owner_choices()]

    def clean_owner(self):
        value = self.cleaned_data["owner"]
        model = Subcategory if value.startswith("s") else Category
        row = model.objects.filter(pk=int(value[1:])).first()
        if row is None:
            raise ValidationError("Choose a category or subcategory from the list.")
        return row


class FormFieldEditForm(forms.Form):
    label = forms.CharField(label="Label", max_length=120)
    help_text = forms.CharField(label="Help text", max_length=300, required=False)
    required = forms.BooleanField(label="Required", required=False)
    position = forms.IntegerField(
        label="Order", min_value=0, max_value=32767, initial=0, help_text="Lower comes first."
    )
    options = forms.CharField(
        label="Options (choice fields)",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="code=Label pairs separated by ; or new lines, e.g. cc100=CC-100 IT. "
        "Codes are stored on tickets: keep them when you relabel an option.",
    )
    min_value = forms.DecimalField(
        label="Minimum (number fields)", required=False, max_digits=15, decimal_places=2
    )
    max_value = forms.DecimalField(
        label="Maximum (number fields)", required=False, max_digits=15, decimal_places=2
    )

    def clean_options(self):
        return parse_options(self.cleaned_data.get("options", ""))

    @classmethod
    def initial_for(cls, field: FormField) -> dict:
        return {
            "owner": owner_value(field),
            "key": field.key,
            "field_type": field.field_type,
            "label": field.label,
            "help_text": field.help_text,
            "required": field.required,
            "position": field.position,
            "options": format_options(field.options),
            "min_value": field.min_value,
            "max_value": field.max_value,
        }


class FormFieldForm(OwnerSelectForm, FormFieldEditForm):
    owner = forms.ChoiceField(label="Form of", choices=[])
    key = forms.CharField(
        label="Code",
        max_length=30,
        help_text="Stored on tickets and never changes: a-z, 0-9 and _, e.g. cost_centre.",
    )
    field_type = forms.ChoiceField(label="Type", choices=FormField.Type.choices)
    field_order = ["owner", "key", "label", "field_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)


def create_args(data: dict) -> dict:
    owner = data["owner"]
    where = "subcategory" if isinstance(owner, Subcategory) else "category"
    return {where: owner, "key": data["key"], "field_type": data["field_type"], **edit_args(data)}


def edit_args(data: dict) -> dict:
    return {
        name: data[name]
        for name in (
            "label", "help_text", "required", "position", "options", "min_value", "max_value",
        )
    }  # fmt: skip
