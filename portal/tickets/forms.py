"""Forms for raising and working tickets. They validate input; services decide permissions."""

import uuid

from django import forms
from django.utils.choices import CallableChoiceIterator

from portal.catalog.models import BusinessUnitGroup, Category, Priority, Subcategory, Team
from portal.tickets.models import Status
from portal.tickets.services import BODY_MAX, TITLE_MAX


class GroupedChoiceField(forms.ModelChoiceField):
    """A select whose options are grouped by parent (`<optgroup>`), so a person without
    JavaScript can still pick a category that belongs to the chosen group."""

    def __init__(self, queryset, *, parent: str, **kwargs):
        self.parent = parent
        super().__init__(queryset, **kwargs)

    def _grouped(self):
        groups: dict[str, list] = {}
        for obj in self.queryset:
            groups.setdefault(str(getattr(obj, self.parent)), []).append((obj.pk, obj.name))
        blank = [("", self.empty_label)] if self.empty_label is not None else []
        return blank + list(groups.items())

    def _get_choices(self):
        # Lazy, like ModelChoiceField's own iterator: no query until the select renders.
        return CallableChoiceIterator(self._grouped)

    choices = property(_get_choices, forms.ChoiceField.choices.fset)


def category_queryset():
    return (
        Category.objects.active()
        .filter(group__is_active=True)
        .select_related("group")
        .order_by("group__name", "name")
    )


def subcategory_queryset():
    return (
        Subcategory.objects.active()
        .filter(category__is_active=True)
        .select_related("category")
        .order_by("category__name", "name")
    )


class ClassificationMixin:
    """Group → category → subcategory must nest; errors land on the field to fix."""

    def clean(self):
        data = super().clean()
        group, category, sub = data.get("group"), data.get("category"), data.get("subcategory")
        if group is None and category is not None:
            group = data["group"] = category.group
        if group and category and category.group_id != group.pk:
            self.add_error("category", f"Choose a category of {group.name}.")
        if category and sub and sub.category_id != category.pk:
            self.add_error("subcategory", f"Choose a subcategory of {category.name}.")
        return data


class TicketCreateForm(ClassificationMixin, forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists, `code` and links.",
    )
    group = forms.ModelChoiceField(
        BusinessUnitGroup.objects.active(), label="Business unit group", empty_label="Choose…"
    )
    category = GroupedChoiceField(category_queryset(), parent="group", empty_label="Choose…")
    subcategory = GroupedChoiceField(
        subcategory_queryset(), parent="category", required=False, empty_label="(any)"
    )
    priority = forms.ChoiceField(
        choices=[("", "Default for this category"), *Priority.choices], required=False
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh key for every form shown; a re-submission of this page sends the same one.
        self.fields["idempotency_key"].initial = uuid.uuid4()
        self.fields["category"].queryset = category_queryset()
        self.fields["subcategory"].queryset = subcategory_queryset()


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    internal = forms.BooleanField(
        label="Internal (only people working the ticket see it)", required=False
    )


class VersionedForm(forms.Form):
    """Carries the ticket version the person saw, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(max_length=1000, required=False)


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")
    reason = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members


class MoveTeamForm(VersionedForm):
    team = forms.ModelChoiceField(Team.objects.active())
    reason = forms.CharField(max_length=1000)


class TicketEditForm(ClassificationMixin, VersionedForm):
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 8}))
    priority = forms.ChoiceField(choices=Priority.choices)
    group = forms.ModelChoiceField(
        BusinessUnitGroup.objects.active(), label="Business unit group", required=False
    )
    category = GroupedChoiceField(category_queryset(), parent="group")
    subcategory = GroupedChoiceField(
        subcategory_queryset(), parent="category", required=False, empty_label="(any)"
    )


class BulkForm(forms.Form):
    ACTIONS = [("take", "Take (assign to me)"), ("status", "Change status"), ("team", "Move team")]

    numbers = forms.MultipleChoiceField(choices=[], error_messages={"required": "Tick tickets."})
    action = forms.ChoiceField(choices=ACTIONS)
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    team = forms.ModelChoiceField(Team.objects.active(), required=False)
    reason = forms.CharField(max_length=1000, required=False)
    query = forms.CharField(max_length=2000, required=False)

    MAX = 100

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        # Any number-shaped value; access is checked per ticket by the services.
        numbers = data.getlist("numbers")[: self.MAX] if hasattr(data, "getlist") else []
        self.fields["numbers"].choices = [(n, n) for n in numbers]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if action == "team":
            if not data.get("team"):
                self.add_error("team", "Choose the team.")
            if not (data.get("reason") or "").strip():
                self.add_error("reason", "Say why the tickets move.")
        if len(self.data.getlist("numbers")) > self.MAX:
            self.add_error("numbers", f"At most {self.MAX} tickets at a time.")
        return data
