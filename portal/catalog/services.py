"""Every write to master data goes through one of these functions.

Each takes keyword-only arguments, runs in a transaction, and raises `ValidationError`
with a message an admin can act on (keyed by form field where one is to blame). Views,
the Excel import, management commands and the demo loader all call them.
"""

import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from types import EllipsisType

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.catalog import invalidation, signals
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    PendingImport,
    Priority,
    Subcategory,
    Team,
    TeamMember,
    name_key,
)
from portal.lib.errors import Conflict

# ---------------------------------------------------------------------------------------
# Shared helpers


def has_invisible_characters(text: str) -> bool:
    """Control, format (zero-width) or surrogate characters: never part of a real name."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


MAX_NAME = 120  # NamedModel.name's max_length
CONCURRENT_CHANGE = "Another change with the same name was saved at the same moment; try again."


def clean_name(name: str, *, label: str) -> str:
    """The one rule for every master-data name (screens, API and the Excel import alike):
    whitespace collapsed, not empty, no invisible characters, 120 characters at most."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": f"Give the {label} a name."})
    if has_invisible_characters(name):
        # Invisible characters make look-alike duplicates and cannot be written to Excel.
        raise ValidationError({"name": "Names cannot contain control or invisible characters."})
    if len(name) > MAX_NAME:
        raise ValidationError(
            {"name": f"The {label} name is too long ({MAX_NAME} characters at most)."}
        )
    return name


def _require_unique(queryset: models.QuerySet, name: str, message: str) -> None:
    if queryset.filter(name_key=name_key(name)).exists():
        raise ValidationError({"name": message})


def _save(obj: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    """Save, turning a lost race on a unique constraint into a `Conflict` (409 in the API)."""
    try:
        with transaction.atomic():
            if update_fields is None:
                obj.save()
            else:
                obj.save(update_fields=[*update_fields, "updated_at"])
    except IntegrityError as exc:
        raise Conflict(CONCURRENT_CHANGE, code="concurrent_change") from exc


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


def _code_format(code: str) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise ValidationError({"code": "Give the group a short code, e.g. IT or HR."})
    if len(code) > 20 or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise ValidationError(
            {"code": "Use up to 20 letters, digits, hyphens or underscores for the code."}
        )
    return code


def _clean_code(code: str, *, group: BusinessUnitGroup | None) -> str:
    code = _code_format(code)
    clash = BusinessUnitGroup.objects.filter(code=code)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise ValidationError({"code": f"The code {code} is already used by another group."})
    return code


def _hold_days(value: int | None, label: str) -> int | None:
    if value is not None and not 0 <= value <= 365:
        raise ValidationError({label: "Between 0 and 365 days, or empty for the default."})
    return value


@transaction.atomic
def group_create(
    *,
    name: str,
    code: str,
    spocs: Iterable[User] = (),
    is_active: bool = True,
    hold_reminder_days: int | None = None,
    hold_close_days: int | None = None,
) -> BusinessUnitGroup:
    """Create a business unit group and name its SPOCs (On-hold rules: None, the default)."""
    name = clean_name(name, label="group")
    _require_unique(
        BusinessUnitGroup.objects.all(), name, f"A group named “{name}” already exists."
    )
    group = BusinessUnitGroup(
        name=name,
        code=_clean_code(code, group=None),
        is_active=is_active,
        hold_reminder_days=_hold_days(hold_reminder_days, "hold_reminder_days"),
        hold_close_days=_hold_days(hold_close_days, "hold_close_days"),
    )
    _save(group)
    group.spocs.set(list(spocs))
    return group


@transaction.atomic
def group_update(
    *,
    group: BusinessUnitGroup,
    name: str,
    code: str,
    spocs: Iterable[User],
    hold_reminder_days: int | None | EllipsisType = ...,
    hold_close_days: int | None | EllipsisType = ...,
) -> BusinessUnitGroup:
    """Rename a group, change its code, replace its SPOCs, or set its own On-hold rules
    (None: the global default; left out (`...`): unchanged)."""
    name = clean_name(name, label="group")
    _require_unique(
        BusinessUnitGroup.objects.exclude(pk=group.pk),
        name,
        f"A group named “{name}” already exists.",
    )
    group.name, group.code = name, _clean_code(code, group=group)
    fields = ["name", "code"]
    if not isinstance(hold_reminder_days, EllipsisType):
        group.hold_reminder_days = _hold_days(hold_reminder_days, "hold_reminder_days")
        fields.append("hold_reminder_days")
    if not isinstance(hold_close_days, EllipsisType):
        group.hold_close_days = _hold_days(hold_close_days, "hold_close_days")
        fields.append("hold_close_days")
    _save(group, update_fields=fields)
    spocs = list(spocs)
    removed = list(group.spocs.exclude(pk__in=[user.pk for user in spocs]))
    group.spocs.set(spocs)
    if removed:
        # Tickets waiting for them are handed on (tickets.rerouting), in this transaction.
        signals.spocs_removed.send(sender=BusinessUnitGroup, group=group, users=removed)
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
    name = clean_name(name, label="category")
    _require_unique(group.categories.all(), name, f"{group} already has a category named “{name}”.")
    category = Category(group=group, name=name, is_active=is_active)
    _save(category)
    return category


@transaction.atomic
def category_update(*, category: Category, group: BusinessUnitGroup, name: str) -> Category:
    """Rename a category or move it to another group."""
    name = clean_name(name, label="category")
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
    name = clean_name(name, label="subcategory")
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
    name = clean_name(name, label="subcategory")
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
    name = clean_name(name, label="team")
    _require_unique(Team.objects.all(), name, f"A team named “{name}” already exists.")
    team = Team(name=name, email=(email or "").strip().lower(), is_active=is_active)
    _save(team)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, email: str) -> Team:
    name = clean_name(name, label="team")
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
    """End a membership but keep the row (history still shows who was in the team).

    The member's open tickets of this team are re-routed, and when the team is left with
    nobody its waiting tickets go on to the SPOCs or triage (tickets.rerouting).
    """
    was_active = member.is_active
    _set_active(member, False)
    if was_active:
        signals.member_left.send(sender=TeamMember, team=member.team, user=member.user)


@transaction.atomic
def team_member_reactivate(*, member: TeamMember) -> None:
    if not member.user.is_active:
        raise ValidationError(f"{member.user.email} is deactivated and cannot rejoin a team.")
    _set_active(member, True)


@transaction.atomic
def team_member_remove(*, member: TeamMember) -> None:
    """Take a user out of a team; their open tickets of the team are re-routed as when a
    membership is deactivated."""
    was_active, team, user = member.is_active, member.team, member.user
    member.delete()
    if was_active:
        signals.member_left.send(sender=TeamMember, team=team, user=user)


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


# ---------------------------------------------------------------------------------------
# Bulk writes (the Excel import)

_BULK_UPDATE_FIELDS = {
    BusinessUnitGroup: ["name", "name_key", "is_active", "updated_at"],
    Category: ["name", "name_key", "is_active", "updated_at"],
    Subcategory: ["name", "name_key", "is_active", "updated_at"],
    ClassificationMapping: ["team", "default_priority", "updated_at"],
}
_LABELS = {
    BusinessUnitGroup: "group",
    Category: "category",
    Subcategory: "subcategory",
    Team: "team",
}


def _check_bulk(obj: models.Model) -> None:
    """The single-object services' rules, applied to one object of a bulk write."""
    if label := _LABELS.get(type(obj)):
        obj.name = clean_name(obj.name, label=label)
        obj.name_key = name_key(obj.name)
    if isinstance(obj, BusinessUnitGroup):
        obj.code = _code_format(obj.code)
    if isinstance(obj, ClassificationMapping):
        if obj.default_priority and obj.default_priority not in Priority.values:
            raise ValidationError({"default_priority": "Choose a priority from the list."})
        sub = obj.subcategory
        if sub is not None and not _same_parent(sub, "category", obj.category):
            raise ValidationError(
                {"subcategory": f"“{sub}” is not a subcategory of “{obj.category}”."}
            )


def _same_parent(obj: models.Model, field_name: str, parent: models.Model) -> bool:
    """Whether `obj.<field_name>` is `parent` (maybe unsaved), without a query per object."""
    cached = obj._state.fields_cache.get(field_name)
    if cached is not None:
        return cached is parent or (cached.pk is not None and cached.pk == parent.pk)
    return parent.pk is not None and getattr(obj, f"{field_name}_id") == parent.pk


@transaction.atomic
def catalog_bulk_save(
    *,
    teams: Iterable[Team] = (),
    groups: Iterable[BusinessUnitGroup] = (),
    categories: Iterable[Category] = (),
    subcategories: Iterable[Subcategory] = (),
    mappings: Iterable[ClassificationMapping] = (),
    updates: Iterable[models.Model] = (),
    group_spocs: Iterable[tuple[BusinessUnitGroup, Iterable[int]]] = (),
) -> None:
    """Create and change master data in a few statements: the Excel import's write path.

    `teams` … `mappings` are new, unsaved objects whose parents may be new objects of the
    same call (saved first, in dependency order); `updates` are changed groups, categories,
    subcategories and mappings; `group_spocs` replaces each group's SPOCs with those user
    ids. Each object passes the same rules as the single-object services (`clean_name`,
    the code format, priorities, a mapping's subcategory in its category); uniqueness is
    the caller's to check against the catalogue it loaded, and the database's unique
    constraints catch a concurrent edit. Raises ValidationError; then nothing is written.
    """
    teams, groups, categories = list(teams), list(groups), list(categories)
    subcategories, mappings, updates = list(subcategories), list(mappings), list(updates)
    group_spocs = [(group, set(ids)) for group, ids in group_spocs]
    for obj in [*teams, *groups, *categories, *subcategories, *mappings, *updates]:
        _check_bulk(obj)
    now = timezone.now()
    for obj in updates:
        obj.updated_at = now
    try:
        with transaction.atomic():
            _bulk_write(teams, groups, categories, subcategories, mappings, updates, group_spocs)
            # Bulk writes send no model signals: cached roles and filter options go stale here.
            invalidation.master_data_changed()
    except IntegrityError as exc:
        raise Conflict(CONCURRENT_CHANGE, code="concurrent_change") from exc


def _bulk_write(teams, groups, categories, subcategories, mappings, updates, group_spocs) -> None:
    batch = 1000
    Team.objects.bulk_create(teams, batch_size=batch)
    BusinessUnitGroup.objects.bulk_create(groups, batch_size=batch)
    for category in categories:
        category.group_id = category.group.pk
    Category.objects.bulk_create(categories, batch_size=batch)
    for sub in subcategories:
        sub.category_id = sub.category.pk
    Subcategory.objects.bulk_create(subcategories, batch_size=batch)
    for mapping in mappings:
        mapping.category_id = mapping.category.pk
        mapping.subcategory_id = mapping.subcategory.pk if mapping.subcategory else None
        mapping.team_id = mapping.team.pk
    ClassificationMapping.objects.bulk_create(mappings, batch_size=batch)

    by_model: dict[type, list] = {}
    for obj in updates:
        if isinstance(obj, ClassificationMapping):
            obj.team_id = obj.team.pk  # the team may be one created above
        by_model.setdefault(type(obj), []).append(obj)
    for model, objs in by_model.items():
        model.objects.bulk_update(objs, _BULK_UPDATE_FIELDS[model], batch_size=batch)

    if group_spocs:
        through = BusinessUnitGroup.spocs.through
        rows = through.objects.filter(businessunitgroup_id__in=[g.pk for g, _ in group_spocs])
        before: dict[int, set[int]] = {}
        for group_id, user_id in rows.values_list("businessunitgroup_id", "user_id"):
            before.setdefault(group_id, set()).add(user_id)
        rows.delete()
        through.objects.bulk_create(
            through(businessunitgroup_id=group.pk, user_id=user_id)
            for group, ids in group_spocs
            for user_id in ids
        )
        # The bulk writes send no signal: the cached SPOC lists are made stale here, before
        # the waiting tickets are routed again below (they read the new SPOCs).
        invalidation.master_data_changed()
        # As group_update does: tickets waiting for SPOCs who are gone are handed on.
        for group, ids in group_spocs:
            if removed := before.get(group.pk, set()) - set(ids):
                users = list(User.objects.filter(pk__in=removed).order_by("full_name", "email"))
                signals.spocs_removed.send(sender=BusinessUnitGroup, group=group, users=users)


# ---------------------------------------------------------------------------------------
# Workbooks waiting between the import's preview and "Apply"

PENDING_LIFETIME = timedelta(days=1)


@transaction.atomic
def pending_import_create(
    *, user: User, filename: str, content: bytes, replaces: str | None = None
) -> PendingImport:
    """Keep an uploaded workbook under a new random token until it is applied.

    Sweeps previews older than a day, and `replaces` (the user's previous token): one
    waiting preview per admin session.
    """
    PendingImport.objects.filter(created_at__lt=timezone.now() - PENDING_LIFETIME).delete()
    if replaces:
        PendingImport.objects.filter(token=replaces, created_by=user).delete()
    return PendingImport.objects.create(
        token=secrets.token_urlsafe(32), created_by=user, filename=filename[:255], content=content
    )


@transaction.atomic
def pending_import_delete(*, pending: PendingImport) -> None:
    """Forget a preview once it has been applied."""
    pending.delete()
