"""Forms for the master-data screens, and the classification fields other apps reuse.

Forms only clean input; the writes (and the uniqueness rules) live in `services.py`, whose
`ValidationError`s `portal.lib.forms.add_service_errors` puts back on the form.
"""

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.forms.models import ModelChoiceIterator

from portal.accounts.emails import normalize_email
from portal.accounts.models import User
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    Priority,
    Subcategory,
    Team,
    TeamMember,
)
from portal.catalog.selectors import master_row
from portal.lib.http import parse_id

MAX_SPOCS = 50


def parse_emails(text: str) -> list[str]:
    """`a@x.org, b@x.org` or one per line: trimmed, lower-cased, duplicates dropped."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,;\s]+", text or ""):
        if part:
            seen[normalize_email(part)] = None
    return list(seen)


def users_by_email(emails: list[str]) -> tuple[list[User], list[str]]:
    """Active users for the given emails (one query) and the emails nobody has."""
    found = {u.email: u for u in User.objects.filter(email__in=emails, is_active=True)}
    return [found[e] for e in emails if e in found], [e for e in emails if e not in found]


class UserEmailsField(forms.CharField):
    """A comma-separated list of the emails of existing, active users."""

    widget = forms.Textarea(attrs={"rows": 2})

    def clean(self, value):
        value = super().clean(value)
        emails = parse_emails(value)
        if len(emails) > MAX_SPOCS:
            raise ValidationError(f"Name at most {MAX_SPOCS} people.")
        users, unknown = users_by_email(emails)
        if unknown:
            raise ValidationError(f"No active user has the email {', '.join(unknown)}.")
        return users


class UserEmailField(forms.CharField):
    """One existing, active user by email."""

    widget = forms.EmailInput(attrs={"autocomplete": "off", "autocapitalize": "none"})

    def clean(self, value):
        value = normalize_email(super().clean(value) or "")
        user = User.objects.filter(email=value, is_active=True).first()
        if user is None:
            raise ValidationError(f"No active user has the email {value}.")
        return user


class GroupForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    code = forms.CharField(label="Short code", max_length=20, help_text="For example IT or HR.")
    spocs = UserEmailsField(
        label="SPOC emails",
        required=False,
        max_length=5000,
        help_text="The people told about tickets in this group, separated by commas.",
    )
    hold_reminder_days = forms.IntegerField(
        label="Remind the requester after (days on hold)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="Empty: the portal's default (HOLD_REMINDER_DAYS); 0: no reminder.",
    )
    hold_close_days = forms.IntegerField(
        label="Close after (days on hold)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="Empty: the portal's default (HOLD_CLOSE_DAYS); 0: never closed for this.",
    )

    @classmethod
    def initial_for(cls, group: BusinessUnitGroup) -> dict:
        emails = ", ".join(u.email for u in group.spocs.order_by("email"))
        return {
            "name": group.name,
            "code": group.code,
            "spocs": emails,
            "hold_reminder_days": group.hold_reminder_days,
            "hold_close_days": group.hold_close_days,
        }


class CategoryForm(forms.Form):
    group = forms.ModelChoiceField(
        label="Business unit group", queryset=BusinessUnitGroup.objects.order_by("name")
    )
    name = forms.CharField(label="Name", max_length=120)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.group.name} / {obj.name}"


class SubcategoryForm(forms.Form):
    category = CategoryChoiceField(
        label="Category",
        queryset=Category.objects.select_related("group").order_by("group__name", "name"),
    )
    name = forms.CharField(label="Name", max_length=120)


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    email = forms.EmailField(label="Contact email", required=False)


class MemberForm(forms.Form):
    """Admins' form on /masters: any team, any role."""

    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.order_by("name"))
    user = UserEmailField(label="Person's email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=TeamMember.Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=TeamMember.Role.choices)


class TeamMemberAddForm(forms.Form):
    """On /teams: a lead adds plain members; admins also choose the role."""

    user = UserEmailField(label="Person's email", max_length=254)
    role = forms.ChoiceField(
        label="Role",
        choices=TeamMember.Role.choices,
        initial=TeamMember.Role.MEMBER,
        required=False,  # left out: a plain member
    )

    def __init__(self, *args, may_choose_role: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_choose_role:
            del self.fields["role"]


class _OfferedChoices(ModelChoiceIterator):
    """The choices of a `_MasterChoiceField`: its queryset read when they are drawn, not
    when the field is made (Django's iterator keeps the queryset it was made with)."""

    def __init__(self, field: forms.ModelChoiceField):
        self.field = field

    @property  # type: ignore[override]
    def queryset(self) -> QuerySet:
        return self.field.queryset


class _MasterChoiceField(forms.ModelChoiceField):
    """A classification select whose posted id is checked against the cached master row
    (`selectors.master_row`) with `accepts`, the same rule as its queryset, rather than by
    a query per field on every form sent (raising a ticket asked three).

    Its options are built by `offer` when something first reads them (a page drawing the
    select): a form that is only sent and checked never needs them, and building three
    querysets was most of the cost of making the new-ticket form."""

    def __init__(
        self,
        *args: Any,
        model: type[Model],
        offer: Callable[[], QuerySet],
        name: str,
        accepts: Callable[[Any], bool],
        **kwargs: Any,
    ):
        super().__init__(None, *args, **kwargs)
        self.model, self.offer = model, offer
        self.name, self.accepts = name, accepts

    def _get_queryset(self) -> QuerySet | None:
        if self._queryset is None and self.offer is not None:
            self._queryset = self.offer()
        return self._queryset

    def _set_queryset(self, queryset: QuerySet | None) -> None:
        self.offer = None  # a queryset given replaces the one offered
        super()._set_queryset(queryset)

    queryset = property(_get_queryset, _set_queryset)
    iterator = _OfferedChoices
    offer: Callable[[], QuerySet] | None = None

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if isinstance(value, self.model):
            value = value.pk
        try:
            pk = self.model._meta.pk.to_python(value)
        except (ValueError, TypeError, ValidationError):
            pk = None
        row = master_row(self.name, pk) if isinstance(pk, int) and 0 < pk < 2**63 else None
        if row is None or not self.accepts(row):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return row


class ClassificationFormMixin:
    """Group → category → subcategory fields that only accept a consistent, active triple.

    Choices are narrowed to the selected parent, so a form re-rendered with errors shows
    the right lists without JavaScript; the htmx partials refresh them as the user picks.
    Items deactivated since are still accepted when they are the form's *initial* value:
    an existing ticket keeps its classification when edited, new ones cannot pick it.
    Use with `templates/catalog/includes/classification_fields.html`.
    """

    subcategory_required = False
    # Must match the options partial's placeholder (`placeholder=any` → "Any subcategory").
    subcategory_empty_label = "Choose a subcategory"

    def setup_classification_fields(self) -> None:
        keep = {
            name: parse_id(self.initial.get(name)) for name in ("group", "category", "subcategory")
        }

        def offered(model, name: str):
            # Active items, plus the one this form started with (even if deactivated since).
            visible = Q(is_active=True) | Q(pk=keep[name]) if keep[name] else Q(is_active=True)
            return model.objects.filter(visible).order_by("name")

        group_id = self.current_id("group")
        category_id = self.current_id("category")

        def kept_or_active(name: str, row) -> bool:
            return row.is_active or row.pk == keep[name]

        def category_accepts(row) -> bool:
            return bool(group_id) and kept_or_active("category", row) and row.group_id == group_id

        def subcategory_accepts(row) -> bool:
            if not (category_id and kept_or_active("subcategory", row)):
                return False
            parent = master_row("category", category_id)
            return (
                row.category_id == category_id
                and parent is not None
                and parent.group_id == (group_id or 0)
            )

        # The choices a page draws come from the querysets, built when first read; a posted
        # id is checked against the cached row with the same rule (`accepts`).
        self.fields["group"] = _MasterChoiceField(
            label="Business unit group",
            model=BusinessUnitGroup,
            offer=lambda: offered(BusinessUnitGroup, "group"),
            empty_label="Choose a group",
            name="group",
            accepts=lambda row: kept_or_active("group", row),
        )
        self.fields["category"] = _MasterChoiceField(
            label="Category",
            model=Category,
            offer=lambda: (
                offered(Category, "category").filter(group_id=group_id)
                if group_id
                else Category.objects.none()
            ),
            empty_label="Choose a category",
            name="category",
            accepts=category_accepts,
        )
        self.fields["subcategory"] = _MasterChoiceField(
            label="Subcategory",
            model=Subcategory,
            offer=lambda: (
                offered(Subcategory, "subcategory").filter(
                    category_id=category_id, category__group_id=group_id or 0
                )
                if category_id
                else Subcategory.objects.none()
            ),
            required=self.subcategory_required,
            empty_label=self.subcategory_empty_label,
            name="subcategory",
            accepts=subcategory_accepts,
        )

    def current_id(self, name: str) -> int | None:
        """The submitted id when bound, else the initial one."""
        if self.is_bound:
            return parse_id(self.data.get(self.add_prefix(name)))
        return parse_id(self.initial.get(name))


class MappingForm(ClassificationFormMixin, forms.Form):
    subcategory_empty_label = "Any subcategory"
    team = forms.ModelChoiceField(
        label="Team", queryset=Team.objects.active().order_by("name"), empty_label="Choose a team"
    )
    default_priority = forms.ChoiceField(
        label="Default priority",
        required=False,
        choices=[("", "No default")] + list(Priority.choices),
    )
    field_order = ["group", "category", "subcategory", "team", "default_priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_classification_fields()
        self.order_fields(self.field_order)


class CoverageAddForm(forms.Form):
    """The one-click form on each coverage-report row."""

    category = forms.ModelChoiceField(queryset=Category.objects.all())
    subcategory = forms.ModelChoiceField(queryset=Subcategory.objects.all(), required=False)
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.active())
    default_priority = forms.ChoiceField(
        label="Default priority", required=False, choices=[("", "No default")] + Priority.choices
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Workbook (.xlsx)",
        help_text="The layout is described on this page. Up to 10 MB and 50,000 rows.",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
