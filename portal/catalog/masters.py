"""What each kind of master data looks like on /masters: its list, form and services.

One declaration per kind keeps the six CRUD screens consistent (search, filters, status,
pagination, deactivate/reactivate/delete) without six copies of the same views. Every
search field and filter here is the allow-list the views accept.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet

from portal.accounts.models import User
from portal.catalog import approval_rule_services, form_services, services
from portal.catalog.approval_rule_forms import ApprovalRuleForm, rule_args
from portal.catalog.form_field_forms import (
    FormFieldEditForm,
    FormFieldForm,
    create_args,
    edit_args,
)
from portal.catalog.forms import (
    CategoryForm,
    GroupForm,
    MappingForm,
    MemberForm,
    MemberRoleForm,
    SubcategoryForm,
    TeamForm,
)
from portal.catalog.models import (
    ApprovalRule,
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    FormField,
    Subcategory,
    Team,
    TeamMember,
)


@dataclass(frozen=True)
class ParentFilter:
    """A `?<param>=<id>` filter whose allowed values are the ids of `choices()`."""

    param: str
    label: str
    lookup: str
    choices: Callable[[], QuerySet]


@dataclass(frozen=True)
class Kind:
    slug: str
    singular: str
    plural: str
    queryset: Callable[[], QuerySet]
    search: tuple[str, ...]
    form: Callable[..., forms.Form]
    initial: Callable[[object], dict]
    create: Callable[[dict], object]
    update: Callable[[object, dict], object]
    delete: Callable[..., None]
    deactivate: Callable[..., None] | None = None
    reactivate: Callable[..., None] | None = None
    parent: ParentFilter | None = None
    edit_form: Callable[..., forms.Form] | None = None
    has_status: bool = True
    extra: dict = field(default_factory=dict)

    def form_for_edit(self, *args, **kwargs) -> forms.Form:
        return (self.edit_form or self.form)(*args, **kwargs)


def _groups() -> QuerySet:
    return (
        BusinessUnitGroup.objects.annotate(category_count=Count("categories"))
        .prefetch_related(Prefetch("spocs", queryset=User.objects.order_by("email")))
        .order_by("name")
    )


def _categories() -> QuerySet:
    return (
        Category.objects.select_related("group")
        .annotate(subcategory_count=Count("subcategories"))
        .order_by("group__name", "name")
    )


def _subcategories() -> QuerySet:
    return Subcategory.objects.select_related("category__group").order_by(
        "category__group__name", "category__name", "name"
    )


def _teams() -> QuerySet:
    return Team.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True)),
        mapping_count=Count("mappings", distinct=True),
    ).order_by("name")


def _members() -> QuerySet:
    return TeamMember.objects.select_related("team", "user").order_by(
        "team__name", "role", "user__full_name", "user__email"
    )


def _mappings() -> QuerySet:
    return ClassificationMapping.objects.select_related(
        "category__group", "subcategory", "team"
    ).order_by("category__group__name", "category__name", "subcategory__name")


def _mapping_initial(m: ClassificationMapping) -> dict:
    return {
        "group": m.category.group_id,
        "category": m.category_id,
        "subcategory": m.subcategory_id,
        "team": m.team_id,
        "default_priority": m.default_priority,
    }


def _group_args(d: dict) -> dict:
    """The group form's cleaned data as `group_create`/`group_update` take it (the SPOCs
    and the group's own on-hold reminder and auto-close days)."""
    fields = ("name", "code", "spocs", "hold_reminder_days", "hold_close_days")
    return {name: d[name] for name in fields}


def _mapping_args(d: dict) -> dict:
    return {
        "category": d["category"],
        "subcategory": d["subcategory"],
        "team": d["team"],
        "default_priority": d["default_priority"],
    }


def _form_fields() -> QuerySet:
    return FormField.objects.select_related(
        "category__group", "subcategory__category__group"
    ).order_by("category__group__name", "category__name", "subcategory__name", "position", "id")


def _approval_rules() -> QuerySet:
    return (
        ApprovalRule.objects.select_related("category__group", "subcategory__category__group")
        .prefetch_related(Prefetch("users", queryset=User.objects.order_by("email")))
        .order_by(
            "category__group__name", "category__name", "subcategory__category__group__name",
            "subcategory__category__name", "subcategory__name", "position", "id",
        )
    )  # fmt: skip


def approval_steps_of(owner: Category | Subcategory) -> list[ApprovalRule]:
    """The steps sitting on this category or subcategory, for its edit page (two queries)."""
    where = {"subcategory": owner} if isinstance(owner, Subcategory) else {"category": owner}
    return list(
        ApprovalRule.objects.filter(**where)
        .prefetch_related(Prefetch("users", queryset=User.objects.order_by("email")))
        .order_by("position", "id")
    )


def _never_delete(field: FormField) -> None:
    raise ValidationError(
        "Request-form fields are retired, not deleted: tickets keep their answers. "
        "Retire it instead."
    )


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in [
        Kind(
            slug="groups",
            singular="business unit group",
            plural="Business unit groups",
            queryset=_groups,
            search=("name", "code"),
            form=GroupForm,
            initial=GroupForm.initial_for,
            create=lambda d: services.group_create(**_group_args(d)),
            update=lambda o, d: services.group_update(group=o, **_group_args(d)),
            delete=lambda o: services.group_delete(group=o),
            deactivate=lambda o: services.group_deactivate(group=o),
            reactivate=lambda o: services.group_reactivate(group=o),
        ),
        Kind(
            slug="categories",
            singular="category",
            plural="Categories",
            queryset=_categories,
            search=("name", "group__name"),
            form=CategoryForm,
            initial=lambda o: {"group": o.group_id, "name": o.name},
            create=lambda d: services.category_create(group=d["group"], name=d["name"]),
            update=lambda o, d: services.category_update(
                category=o, group=d["group"], name=d["name"]
            ),
            delete=lambda o: services.category_delete(category=o),
            deactivate=lambda o: services.category_deactivate(category=o),
            reactivate=lambda o: services.category_reactivate(category=o),
            parent=ParentFilter(
                "group", "Group", "group_id", lambda: BusinessUnitGroup.objects.order_by("name")
            ),
            extra={"approval_steps": "c"},
        ),
        Kind(
            slug="subcategories",
            singular="subcategory",
            plural="Subcategories",
            queryset=_subcategories,
            search=("name", "category__name", "category__group__name"),
            form=SubcategoryForm,
            initial=lambda o: {"category": o.category_id, "name": o.name},
            create=lambda d: services.subcategory_create(category=d["category"], name=d["name"]),
            update=lambda o, d: services.subcategory_update(
                subcategory=o, category=d["category"], name=d["name"]
            ),
            delete=lambda o: services.subcategory_delete(subcategory=o),
            deactivate=lambda o: services.subcategory_deactivate(subcategory=o),
            reactivate=lambda o: services.subcategory_reactivate(subcategory=o),
            parent=ParentFilter(
                "group",
                "Group",
                "category__group_id",
                lambda: BusinessUnitGroup.objects.order_by("name"),
            ),
            extra={"approval_steps": "s"},
        ),
        Kind(
            slug="teams",
            singular="team",
            plural="Teams",
            queryset=_teams,
            search=("name", "email"),
            form=TeamForm,
            initial=lambda o: {"name": o.name, "email": o.email},
            create=lambda d: services.team_create(name=d["name"], email=d["email"]),
            update=lambda o, d: services.team_update(team=o, name=d["name"], email=d["email"]),
            delete=lambda o: services.team_delete(team=o),
            deactivate=lambda o: services.team_deactivate(team=o),
            reactivate=lambda o: services.team_reactivate(team=o),
        ),
        Kind(
            slug="members",
            singular="team member",
            plural="Team members",
            queryset=_members,
            search=("user__email", "user__full_name", "team__name"),
            form=MemberForm,
            edit_form=MemberRoleForm,
            initial=lambda o: {"role": o.role},
            create=lambda d: services.team_member_add(
                team=d["team"], user=d["user"], role=d["role"]
            ),
            update=lambda o, d: services.team_member_update(member=o, role=d["role"]),
            delete=lambda o: services.team_member_remove(member=o),
            deactivate=lambda o: services.team_member_deactivate(member=o),
            reactivate=lambda o: services.team_member_reactivate(member=o),
            parent=ParentFilter("team", "Team", "team_id", lambda: Team.objects.order_by("name")),
        ),
        Kind(
            slug="mappings",
            singular="mapping",
            plural="Classification mapping",
            queryset=_mappings,
            search=("category__name", "category__group__name", "subcategory__name", "team__name"),
            form=MappingForm,
            initial=_mapping_initial,
            create=lambda d: services.mapping_create(**_mapping_args(d)),
            update=lambda o, d: services.mapping_update(mapping=o, **_mapping_args(d)),
            delete=lambda o: services.mapping_delete(mapping=o),
            has_status=False,
            parent=ParentFilter("team", "Team", "team_id", lambda: Team.objects.order_by("name")),
        ),
        Kind(
            slug="fields",
            singular="form field",
            plural="Request form fields",
            queryset=_form_fields,
            search=("key", "label", "category__name", "subcategory__name"),
            form=FormFieldForm,
            edit_form=FormFieldEditForm,
            initial=FormFieldEditForm.initial_for,
            create=lambda d: form_services.form_field_create(**create_args(d)),
            update=lambda o, d: form_services.form_field_update(field=o, **edit_args(d)),
            delete=_never_delete,
            deactivate=lambda o: form_services.form_field_retire(field=o),
            reactivate=lambda o: form_services.form_field_reactivate(field=o),
            extra={"retire_only": True},
        ),
        Kind(
            slug="approvals",
            singular="approval step",
            plural="Approval steps",
            queryset=_approval_rules,
            search=(
                "category__name",
                "category__group__name",
                "subcategory__name",
                "subcategory__category__name",
                "subcategory__category__group__name",
            ),  # fmt: skip
            form=ApprovalRuleForm,
            initial=ApprovalRuleForm.initial_for,
            create=lambda d: approval_rule_services.approval_rule_create(**rule_args(d)),
            update=lambda o, d: approval_rule_services.approval_rule_update(rule=o, **rule_args(d)),
            delete=lambda o: approval_rule_services.approval_rule_delete(rule=o),
            has_status=False,
        ),
    ]
}

# The status filter's allow-list: value → queryset filter.
STATUSES = {"all": {}, "active": {"is_active": True}, "inactive": {"is_active": False}}
