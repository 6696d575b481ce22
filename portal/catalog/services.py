"""Every write to master data goes through one of these functions.

Each takes keyword-only arguments, runs in a transaction, and raises `ValidationError`
with a message an admin can act on (keyed by form field where one is to blame). Views,
the Excel import, management commands and the demo loader all call them.
"""

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from portal.accounts.models import User
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Priority,
    Subcategory,
    Team,
    TeamMember,
    name_key,
)

# ---------------------------------------------------------------------------------------
# Shared helpers


def has_invisible_characters(text: str) -> bool:
    """Control, format (zero-width) or surrogate characters: never part of a real name."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


def _clean_name(name: str, *, label: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": f"Give the {label} a name."})
    if has_invisible_characters(name):
        # Invisible characters make look-alike duplicates and cannot be written to Excel.
        raise ValidationError({"name": "Names cannot contain control or invisible characters."})
    if len(name) > 120:
        raise ValidationError({"name": f"The {label} name is too long (120 characters at most)."})
    return name


def _require_unique(queryset: models.QuerySet, name: str, message: str) -> None:
    if queryset.filter(name_key=name_key(name)).exists():
        raise ValidationError({"name": message})


def _save(obj: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    """Save, turning a lost race on a unique constraint into a ValidationError."""
    try:
        with transaction.atomic():
            if update_fields is None:
                obj.save()
            else:
                obj.save(update_fields=[*update_fields, "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(
            "Another change with the same name was saved at the same moment; try again."
        ) from exc


def usage(obj: models.Model) -> list[str]:
    """What refers to `obj`, as phrases such as "3 subcategories" (empty: nothing does).

    Walks every reverse foreign key, so relations added by other apps (tickets naming a
    category, for example) count without this module knowing about them.
    """
    found = []
    for relation in obj._meta.related_objects:
        if not relation.one_to_many:
            continue
        accessor = relation.get_accessor_name()
        count = getattr(obj, accessor).count()
        if count:
            model_meta = relation.related_model._meta
            noun = model_meta.verbose_name if count == 1 else model_meta.verbose_name_plural
            found.append(f"{count} {noun}")
    return found


def _delete(obj: models.Model, *, label: str) -> None:
    in_use = usage(obj)
    if in_use:
        raise ValidationError(
            f"“{obj}” cannot be deleted: it is used by {', '.join(in_use)}. "
            f"Deactivate the {label} instead; existing tickets keep it."
        )
    obj.delete()


def _set_active(obj: models.Model, active: bool) -> None:
    if obj.is_active != active:
        obj.is_active = active
        fields = ["is_active"]
        if hasattr(obj, "updated_at"):
            fields.append("updated_at")
        obj.save(update_fields=fields)


# ---------------------------------------------------------------------------------------
# Business unit groups


def _clean_code(code: str, *, group: BusinessUnitGroup | None) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise ValidationError({"code": "Give the group a short code, e.g. IT or HR."})
    if len(code) > 20 or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise ValidationError(
            {"code": "Use up to 20 letters, digits, hyphens or underscores for the code."}
        )
    clash = BusinessUnitGroup.objects.filter(code=code)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise ValidationError({"code": f"The code {code} is already used by another group."})
    return code


@transaction.atomic
def group_create(
    *, name: str, code: str, spocs: Iterable[User] = (), is_active: bool = True
) -> BusinessUnitGroup:
    """Create a business unit group and name its SPOCs."""
    name = _clean_name(name, label="group")
    _require_unique(
        BusinessUnitGroup.objects.all(), name, f"A group named “{name}” already exists."
    )
    group = BusinessUnitGroup(name=name, code=_clean_code(code, group=None), is_active=is_active)
    _save(group)
    group.spocs.set(list(spocs))
    return group


@transaction.atomic
def group_update(
    *, group: BusinessUnitGroup, name: str, code: str, spocs: Iterable[User]
) -> BusinessUnitGroup:
    """Rename a group, change its code, or replace its SPOCs."""
    name = _clean_name(name, label="group")
    _require_unique(
        BusinessUnitGroup.objects.exclude(pk=group.pk),
        name,
        f"A group named “{name}” already exists.",
    )
    group.name, group.code = name, _clean_code(code, group=group)
    _save(group, update_fields=["name", "code"])
    group.spocs.set(list(spocs))
    return group


@transaction.atomic
def group_deactivate(*, group: BusinessUnitGroup) -> None:
    """Hide a group from new tickets; tickets that have it keep it."""
    _set_active(group, False)


@transaction.atomic
def group_reactivate(*, group: BusinessUnitGroup) -> None:
    _set_active(group, True)


@transaction.atomic
def group_delete(*, group: BusinessUnitGroup) -> None:
    """Delete a group nothing uses (its SPOC list goes with it)."""
    _delete(group, label="group")


# ---------------------------------------------------------------------------------------
# Categories and subcategories


@transaction.atomic
def category_create(*, group: BusinessUnitGroup, name: str, is_active: bool = True) -> Category:
    """Create a category under a group; names are unique within the group."""
    name = _clean_name(name, label="category")
    _require_unique(group.categories.all(), name, f"{group} already has a category named “{name}”.")
    category = Category(group=group, name=name, is_active=is_active)
    _save(category)
    return category


@transaction.atomic
def category_update(*, category: Category, group: BusinessUnitGroup, name: str) -> Category:
    """Rename a category or move it to another group."""
    name = _clean_name(name, label="category")
    _require_unique(
        group.categories.exclude(pk=category.pk),
        name,
        f"{group} already has a category named “{name}”.",
    )
    category.group, category.name = group, name
    _save(category, update_fields=["group", "name"])
    return category


@transaction.atomic
def category_deactivate(*, category: Category) -> None:
    _set_active(category, False)


@transaction.atomic
def category_reactivate(*, category: Category) -> None:
    _set_active(category, True)


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete a category with no subcategories, mappings or tickets."""
    _delete(category, label="category")


@transaction.atomic
def subcategory_create(*, category: Category, name: str, is_active: bool = True) -> Subcategory:
    """Create a subcategory; names are unique within the category."""
    name = _clean_name(name, label="subcategory")
    _require_unique(
        category.subcategories.all(), name, f"{category} already has a subcategory “{name}”."
    )
    subcategory = Subcategory(category=category, name=name, is_active=is_active)
    _save(subcategory)
    return subcategory


@transaction.atomic
def subcategory_update(*, subcategory: Subcategory, category: Category, name: str) -> Subcategory:
    """Rename a subcategory or move it to another category.

    Moving it drops nothing silently: a mapping naming the subcategory would then point
    across categories, so the move is refused while one exists.
    """
    name = _clean_name(name, label="subcategory")
    _require_unique(
        category.subcategories.exclude(pk=subcategory.pk),
        name,
        f"{category} already has a subcategory “{name}”.",
    )
    if category.pk != subcategory.category_id and subcategory.mappings.exists():
        raise ValidationError(
            {"category": "Delete this subcategory's team mapping before moving it."}
        )
    subcategory.category, subcategory.name = category, name
    _save(subcategory, update_fields=["category", "name"])
    return subcategory


@transaction.atomic
def subcategory_deactivate(*, subcategory: Subcategory) -> None:
    _set_active(subcategory, False)


@transaction.atomic
def subcategory_reactivate(*, subcategory: Subcategory) -> None:
    _set_active(subcategory, True)


@transaction.atomic
def subcategory_delete(*, subcategory: Subcategory) -> None:
    _delete(subcategory, label="subcategory")


# ---------------------------------------------------------------------------------------
# Teams and members


@transaction.atomic
def team_create(*, name: str, email: str = "", is_active: bool = True) -> Team:
    """Create a team; team names are unique across the organisation."""
    name = _clean_name(name, label="team")
    _require_unique(Team.objects.all(), name, f"A team named “{name}” already exists.")
    team = Team(name=name, email=(email or "").strip().lower(), is_active=is_active)
    _save(team)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, email: str) -> Team:
    name = _clean_name(name, label="team")
    _require_unique(
        Team.objects.exclude(pk=team.pk), name, f"A team named “{name}” already exists."
    )
    team.name, team.email = name, (email or "").strip().lower()
    _save(team, update_fields=["name", "email"])
    return team


@transaction.atomic
def team_deactivate(*, team: Team) -> None:
    """An inactive team receives no new tickets (its mappings are skipped)."""
    _set_active(team, False)


@transaction.atomic
def team_reactivate(*, team: Team) -> None:
    _set_active(team, True)


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team with no members, mappings or tickets."""
    _delete(team, label="team")


@transaction.atomic
def team_member_add(*, team: Team, user: User, role: str = TeamMember.Role.MEMBER) -> TeamMember:
    """Put a user in a team (or bring back a former member with the given role)."""
    if role not in TeamMember.Role.values:
        raise ValidationError({"role": "Choose member or lead."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.email} is deactivated and cannot join a team."})
    member = TeamMember.objects.select_for_update().filter(team=team, user=user).first()
    if member is not None and member.is_active:
        raise ValidationError({"user": f"{user.email} is already a member of {team}."})
    if member is None:
        return TeamMember.objects.create(team=team, user=user, role=role)
    member.role, member.is_active = role, True
    member.save(update_fields=["role", "is_active"])
    return member


@transaction.atomic
def team_member_update(*, member: TeamMember, role: str) -> TeamMember:
    """Make a member a lead, or a lead a plain member."""
    if role not in TeamMember.Role.values:
        raise ValidationError({"role": "Choose member or lead."})
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def team_member_deactivate(*, member: TeamMember) -> None:
    _set_active(member, False)


@transaction.atomic
def team_member_reactivate(*, member: TeamMember) -> None:
    if not member.user.is_active:
        raise ValidationError(f"{member.user.email} is deactivated and cannot rejoin a team.")
    _set_active(member, True)


@transaction.atomic
def team_member_remove(*, member: TeamMember) -> None:
    """Take a user out of a team. Their tickets stay assigned until someone reassigns them."""
    member.delete()


# ---------------------------------------------------------------------------------------
# Classification mapping


def _check_mapping(
    *,
    category: Category,
    subcategory: Subcategory | None,
    default_priority: str,
    mapping: ClassificationMapping | None,
) -> None:
    if subcategory is not None and subcategory.category_id != category.pk:
        raise ValidationError(
            {"subcategory": f"“{subcategory}” is not a subcategory of “{category}”."}
        )
    if default_priority and default_priority not in Priority.values:
        raise ValidationError({"default_priority": "Choose a priority from the list."})
    clash = ClassificationMapping.objects.filter(category=category, subcategory=subcategory)
    if mapping is not None:
        clash = clash.exclude(pk=mapping.pk)
    existing = clash.select_related("team").first()
    if existing is not None:
        which = f"“{subcategory}”" if subcategory else "any subcategory"
        raise ValidationError(
            f"{category.group} / {category} / {which} is already mapped to {existing.team}. "
            "Edit that mapping instead."
        )


@transaction.atomic
def mapping_create(
    *,
    category: Category,
    subcategory: Subcategory | None,
    team: Team,
    default_priority: str = "",
) -> ClassificationMapping:
    """Route a classification to a team; `subcategory=None` covers any subcategory."""
    _check_mapping(
        category=category, subcategory=subcategory, default_priority=default_priority, mapping=None
    )
    mapping = ClassificationMapping(
        category=category, subcategory=subcategory, team=team, default_priority=default_priority
    )
    _save(mapping)
    return mapping


@transaction.atomic
def mapping_update(
    *,
    mapping: ClassificationMapping,
    category: Category,
    subcategory: Subcategory | None,
    team: Team,
    default_priority: str = "",
) -> ClassificationMapping:
    _check_mapping(
        category=category,
        subcategory=subcategory,
        default_priority=default_priority,
        mapping=mapping,
    )
    mapping.category, mapping.subcategory = category, subcategory
    mapping.team, mapping.default_priority = team, default_priority
    _save(mapping, update_fields=["category", "subcategory", "team", "default_priority"])
    return mapping


@transaction.atomic
def mapping_delete(*, mapping: ClassificationMapping) -> None:
    """Remove a route; tickets already routed keep their team."""
    mapping.delete()
