"""Importing the master-data workbook: a plan first (the preview), then all-or-nothing apply.

`catalog_import_plan(data)` reads the file and compares it with the database without
writing anything; `catalog_import_apply(data)` plans again inside one transaction and
writes the whole plan or nothing. Importing never deletes: rows create or update groups,
categories, subcategories, teams and mappings, and `Active = no` deactivates. The same
file imported twice changes nothing the second time.

Row meaning (docs/catalog.md): a row with only a group describes the group (its SPOCs and
active flag); a row with a category and no subcategory describes the category and its
"any subcategory" team; a row with a subcategory describes it and its own team.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.accounts.emails import normalize_email
from portal.accounts.models import User
from portal.catalog import approval_sheet, form_sheet
from portal.catalog.import_gaps import NO_MEMBER, NO_SPOC, NO_TEAM, Named, find_gaps
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Priority,
    Subcategory,
    Team,
    name_key,
)
from portal.catalog.services import catalog_bulk_save, clean_name
from portal.catalog.spreadsheet import FileRefused, Problem, read_catalog_sheet
from portal.lib.errors import Conflict

TRUE_WORDS = {"yes", "y", "true", "1", "active"}
FALSE_WORDS = {"no", "n", "false", "0", "inactive"}
PRIORITIES = {
    **{value: value for value in Priority.values},
    **{str(label).casefold(): value for value, label in Priority.choices},
}


@dataclass
class RowPlan:
    number: int
    label: str
    action: str = "unchanged"  # create | update | unchanged
    changes: list[str] = field(default_factory=list)
    filled: str = ""  # "group and category from row 4" when blank cells were filled down


@dataclass
class ImportPlan:
    """What an import would do. `errors` empty means it may be applied."""

    sheet: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # What each header cell was read as: (letter, header text, field or "", meaning).
    columns: list[tuple[str, str, str, str]] = field(default_factory=list)
    # What the catalogue would still lack for the rows of this file (import_gaps.Gap).
    gaps: list = field(default_factory=list)
    # The writes, by kind; filled only when there are no errors.
    writes: dict = field(default_factory=dict)

    @property
    def row_counts(self) -> dict[str, int]:
        totals = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            totals[row.action] += 1
        return totals

    @property
    def count_lines(self) -> list[tuple[str, int]]:
        """("Categories created", 3)… for the result page and the command's output."""
        return [
            (key.replace("_", " ").capitalize().replace("spocs", "SPOCs"), n)
            for key, n in sorted(self.counts.items())
        ]

    @property
    def gaps_by_kind(self) -> list[tuple[str, list]]:
        """(heading, gaps) for each kind that has any, for the preview and the command."""
        headings = (
            (NO_TEAM, "Combinations that reach no team"),
            (NO_MEMBER, "Teams with no active member"),
            (NO_SPOC, "Groups with no SPOC"),
        )
        return [
            (heading, found)
            for kind, heading in headings
            if (found := [gap for gap in self.gaps if gap.kind == kind])
        ]

    @property
    def changed(self) -> bool:
        return any(row.action != "unchanged" for row in self.rows)


class _State:
    """The current catalogue, loaded in a handful of queries and indexed by name keys."""

    def __init__(self, emails: set[str]):
        self.groups = {g.name_key: g for g in BusinessUnitGroup.objects.all()}
        self.codes = {g.code for g in self.groups.values()}
        self.categories = {(c.group_id, c.name_key): c for c in Category.objects.all()}
        self.subcategories = {(s.category_id, s.name_key): s for s in Subcategory.objects.all()}
        self.teams = {t.name_key: t for t in Team.objects.all()}
        self.mappings = {
            (m.category_id, m.subcategory_id): m for m in ClassificationMapping.objects.all()
        }
        self.spocs: dict[int, set[int]] = defaultdict(set)
        through = BusinessUnitGroup.spocs.through.objects.values_list(
            "businessunitgroup_id", "user_id"
        )
        for group_id, user_id in through:
            self.spocs[group_id].add(user_id)
        self.users = {u.email: u.pk for u in User.objects.filter(email__in=emails, is_active=True)}


def _fill_down(rows) -> dict[int, str]:
    """Fill blank group and category cells from the row above, as hand-kept sheets leave them.

    The group is taken from the row above whenever its cell is blank; the category only
    on a row that names a subcategory and belongs to the same group (a row with a group
    and nothing else describes the group itself). Returns, per row number, what was filled.
    """
    filled: dict[int, str] = {}
    above: dict[str, str] | None = None
    above_number = 0
    for row in rows:
        v = row.values
        if above is not None:
            what = []
            if not v["group"] and above["group"]:
                v["group"] = above["group"]
                what.append("group")
            same_group = name_key(v["group"]) == name_key(above["group"])
            if not v["category"] and v["subcategory"] and same_group and above["category"]:
                v["category"] = above["category"]
                what.append("category")
            if what:
                filled[row.number] = f"{' and '.join(what)} from row {above_number}"
        above, above_number = v, row.number
    return filled


def _parse_row(row, sheet, errors: list[Problem]) -> dict | None:
    v = row.values
    sheet_name = sheet.name

    def problem(column: str, message: str) -> None:
        errors.append(Problem(sheet_name, row.number, sheet.header(column), message))

    before = len(errors)
    names = {}
    for column in ("group", "category", "subcategory", "team"):
        names[column] = ""
        if value := v.get(column, ""):
            try:  # the services' one rule for names
                names[column] = clean_name(value, label=column)
            except ValidationError as exc:
                problem(column, exc.messages[0])
    group, category, sub, team = names.values()
    if not group:
        problem("group", "Every row needs a business unit group (on the row or a row above).")
    if sub and not category:
        problem("category", "A subcategory needs its category (on the row or a row above).")
    if team and not category:
        problem(
            "team",
            "Teams are mapped to a category or subcategory; leave Team empty on a group's own row.",
        )
    priority_text = v.get("priority", "").casefold()
    priority = PRIORITIES.get(priority_text, None) if priority_text else ""
    if priority is None:
        problem(
            "priority",
            f"“{v['priority']}” is not a priority; use "
            + ", ".join(str(label) for label in Priority.labels)
            + ".",
        )
    elif priority and not team:
        problem("priority", "A default priority needs a team on the same row.")
    active_text = v.get("active", "").casefold()
    active = None
    if active_text in TRUE_WORDS:
        active = True
    elif active_text in FALSE_WORDS:
        active = False
    elif active_text:
        problem("active", f"“{v['active']}” is not yes or no.")
    spocs = None
    if v.get("spocs"):
        spocs = frozenset(normalize_email(e) for e in re.split(r"[,;\s]+", v["spocs"]) if e)
    if len(errors) > before:
        return None
    return {
        "group": group,
        "category": category,
        "sub": sub,
        "team": team,
        "priority": priority or "",
        "active": active,
        "spocs": spocs,
    }


def catalog_import_plan(data: bytes) -> ImportPlan:
    """Read `data` and work out every change, writing nothing. Raises FileRefused."""
    sheet = read_catalog_sheet(data)
    plan = ImportPlan(
        sheet=sheet.name,
        errors=list(sheet.problems),
        notices=list(sheet.notices),
        columns=list(sheet.reading),
    )
    filled = _fill_down(sheet.rows)
    # A row with a refused cell (a formula) is reported once, not again for its blanks.
    refused_rows = {problem.row for problem in sheet.problems}
    parsed = [
        (row, _parse_row(row, sheet, plan.errors))
        for row in sheet.rows
        if row.number not in refused_rows
    ]

    emails = {e for _, p in parsed if p and p["spocs"] for e in p["spocs"]}
    state = _State(emails)
    seen: dict[tuple, tuple[int, dict]] = {}
    group_spocs: dict[str, tuple[int, frozenset]] = {}
    wanted = []
    for row, p in parsed:
        if p is None:
            continue
        key = (name_key(p["group"]), name_key(p["category"]), name_key(p["sub"]))
        if p["spocs"] is not None:
            unknown = sorted(e for e in p["spocs"] if e not in state.users)
            if unknown:
                plan.errors.append(
                    Problem(
                        sheet.name,
                        row.number,
                        sheet.header("spocs"),
                        f"No active user has the email {', '.join(unknown)}. A SPOC must be "
                        "a user of the portal: add the user first, or remove the email.",
                    )
                )
                continue
            earlier = group_spocs.get(key[0])
            if earlier and earlier[1] != p["spocs"]:
                plan.errors.append(
                    Problem(
                        sheet.name,
                        row.number,
                        sheet.header("spocs"),
                        f"Row {earlier[0]} names different SPOCs for {p['group']}; "
                        "a group has one list of SPOCs.",
                    )
                )
                continue
            group_spocs.setdefault(key[0], (row.number, p["spocs"]))
        if key in seen:
            first_number, first = seen[key]
            if name_key(first["team"]) != name_key(p["team"]):
                plan.errors.append(
                    Problem(
                        sheet.name,
                        row.number,
                        sheet.header("team"),
                        f"Row {first_number} maps the same classification to "
                        f"“{first['team'] or 'no team'}”, this row to “{p['team'] or 'no team'}”.",
                    )
                )
            elif (first["priority"], first["active"]) != (p["priority"], p["active"]):
                plan.errors.append(
                    Problem(
                        sheet.name,
                        row.number,
                        sheet.header("group"),
                        f"Row {first_number} describes the same classification differently.",
                    )
                )
            else:
                plan.notices.append(f"Row {row.number} repeats row {first_number} and was skipped.")
            continue
        seen[key] = (row.number, p)
        wanted.append((row, p, key))

    if plan.errors:
        plan.errors.sort(key=lambda e: (e.row, e.column))
        return plan
    _diff(plan, state, wanted, {k: v[1] for k, v in group_spocs.items()}, filled)
    _plan_forms(plan, data, {key for _, _, key in wanted})
    _plan_steps(plan, data, {key for _, _, key in wanted})
    return plan


def _plan_forms(plan: ImportPlan, data: bytes, catalogue_keys: set[tuple]) -> None:
    """The "Form fields" sheet (form_sheet.py), when the workbook has one."""
    problems: list[Problem] = []
    rows = form_sheet.read_form_rows(data, problems)
    plans = form_sheet.plan_form_rows(rows, catalogue_keys, problems) if rows else []
    _add_sheet(plan, "form_fields", plans, problems, label=lambda field: field.row.label)


def _plan_steps(plan: ImportPlan, data: bytes, catalogue_keys: set[tuple]) -> None:
    """The "Approval steps" sheet (approval_sheet.py), when the workbook has one."""
    problems: list[Problem] = []
    rows = approval_sheet.read_step_rows(data, problems)
    plans = approval_sheet.plan_step_rows(rows, catalogue_keys, problems) if rows else []
    _add_sheet(plan, "approval_steps", plans, problems, label=lambda step: step.label)


def _add_sheet(plan: ImportPlan, name: str, plans: list, problems: list[Problem], *, label):
    """One extra sheet's rows into the plan: its problems (then nothing is written at all),
    or a preview row and a count per change, and its plans for `apply` under `name`."""
    if problems:
        plan.errors.extend(problems)
        plan.writes = {}
        return
    for row_plan in plans:
        plan.rows.append(
            RowPlan(
                number=row_plan.row.number,
                label=label(row_plan),
                action=row_plan.action,
                changes=row_plan.changes,
            )
        )
        if row_plan.action != "unchanged":
            key = f"{name}_{'created' if row_plan.action == 'create' else 'updated'}"
            plan.counts[key] = plan.counts.get(key, 0) + 1
    plan.writes[name] = plans


def _new_code(name: str, taken: set[str]) -> str:
    """A short code for a group created by import: initials of several words, else the word."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    base = ("".join(w[0] for w in words) if len(words) > 1 else "".join(words)[:10]).upper()
    base = base or "GROUP"
    code, n = base[:20], 2
    while code in taken:
        code, n = f"{base[:16]}-{n}", n + 1
    taken.add(code)
    return code


def _diff(
    plan: ImportPlan, state: _State, wanted: list, spocs_by_group: dict, filled: dict[int, str]
) -> None:
    """Compare the wanted rows with `state`; fill `plan.rows`, `plan.counts`, `plan.writes`."""
    w = {
        "groups": {},
        "categories": {},
        "subs": {},
        "teams": {},
        "mappings": {},
        "updates": [],
        "spocs": {},
    }
    counts = defaultdict(int)
    named: list[Named] = []

    def touch(obj, kind: str, changes: list[str], what: str, **fields) -> None:
        """Record field changes on an existing object (once per object)."""
        diff = {f: v for f, v in fields.items() if getattr(obj, f) != v}
        if diff:
            for f, v in diff.items():
                setattr(obj, f, v)
            w["updates"].append(obj)
            counts[f"{kind}_updated"] += 1
            changes.append(what + ": " + ", ".join(_describe(f, v) for f, v in diff.items()))

    for row, p, (gkey, ckey, skey) in wanted:
        label = " / ".join(x for x in (p["group"], p["category"], p["sub"]) if x)
        rp = RowPlan(number=row.number, label=label, filled=filled.get(row.number, ""))
        own_is_new = False
        # Group
        group = state.groups.get(gkey) or w["groups"].get(gkey)
        if group is None:
            group = BusinessUnitGroup(
                name=p["group"],
                name_key=gkey,
                code=_new_code(p["group"], state.codes),
                is_active=True,
            )
            w["groups"][gkey] = group
            counts["groups_created"] += 1
            rp.changes.append(f"new group {p['group']} (code {group.code})")
            own_is_new = not ckey
        elif not ckey and group.pk:
            touch(
                group,
                "groups",
                rp.changes,
                "group",
                name=p["group"],
                **({"is_active": p["active"]} if p["active"] is not None else {}),
            )
        if not ckey and not group.pk and p["active"] is False:
            group.is_active = False  # a group created by an earlier row of this file
            if not own_is_new:
                rp.changes.append("group: inactive")
        if gkey in spocs_by_group and gkey not in w["spocs"]:
            ids = {state.users[e] for e in spocs_by_group[gkey]}
            if not group.pk or state.spocs.get(group.pk, set()) != ids:
                w["spocs"][gkey] = (group, ids)
                if group.pk:
                    counts["groups_spocs_changed"] += 1
                    rp.changes.append("SPOCs: " + ", ".join(sorted(spocs_by_group[gkey])))
        if not ckey:
            named.append(Named(row.number, group, None, None))
            _finish(plan, rp, own_is_new)
            continue
        # Category
        category = (state.categories.get((group.pk, ckey)) if group.pk else None) or w[
            "categories"
        ].get((gkey, ckey))
        is_own = not skey
        if category is None:
            category = Category(group=group, name=p["category"], name_key=ckey, is_active=True)
            w["categories"][(gkey, ckey)] = category
            counts["categories_created"] += 1
            rp.changes.append(f"new category {p['category']}")
            own_is_new = own_is_new or is_own
        elif is_own and category.pk:
            touch(
                category,
                "categories",
                rp.changes,
                "category",
                name=p["category"],
                **({"is_active": p["active"]} if p["active"] is not None else {}),
            )
        if is_own and not category.pk and p["active"] is False:
            category.is_active = False
            if not own_is_new:
                rp.changes.append("category: inactive")
        # Subcategory
        sub = None
        if skey:
            sub = (state.subcategories.get((category.pk, skey)) if category.pk else None) or w[
                "subs"
            ].get((gkey, ckey, skey))
            if sub is None:
                sub = Subcategory(
                    category=category,
                    name=p["sub"],
                    name_key=skey,
                    is_active=p["active"] is not False,
                )
                w["subs"][(gkey, ckey, skey)] = sub
                counts["subcategories_created"] += 1
                rp.changes.append(f"new subcategory {p['sub']}")
                own_is_new = True
            else:
                touch(
                    sub,
                    "subcategories",
                    rp.changes,
                    "subcategory",
                    name=p["sub"],
                    **({"is_active": p["active"]} if p["active"] is not None else {}),
                )
        # Team and mapping
        if p["team"]:
            tkey = name_key(p["team"])
            team = state.teams.get(tkey) or w["teams"].get(tkey)
            if team is None:
                team = Team(name=p["team"], name_key=tkey, is_active=True)
                w["teams"][tkey] = team
                counts["teams_created"] += 1
                rp.changes.append(f"new team {p['team']}")
            mapping = None
            if category.pk and (sub is None or sub.pk):
                mapping = state.mappings.get((category.pk, sub.pk if sub else None))
            if mapping is None:
                w["mappings"][(gkey, ckey, skey)] = ClassificationMapping(
                    category=category, subcategory=sub, team=team, default_priority=p["priority"]
                )
                counts["mappings_created"] += 1
                rp.changes.append(f"route to {team.name}")
                own_is_new = True
            elif mapping.team_id != team.pk or mapping.default_priority != p["priority"]:
                if mapping.team_id != team.pk:
                    rp.changes.append(
                        f"route to {team.name} instead of {_team_name(state, mapping.team_id)}"
                    )
                if mapping.default_priority != p["priority"]:
                    rp.changes.append(f"default priority {p['priority'] or 'none'}")
                mapping.team, mapping.default_priority = team, p["priority"]
                w["updates"].append(mapping)
                counts["mappings_updated"] += 1
        named.append(Named(row.number, group, category, sub))
        _finish(plan, rp, own_is_new)

    plan.counts = dict(counts)
    plan.writes = w
    plan.gaps = find_gaps(named=named, state=state, writes=w)


def _team_name(state: _State, team_id: int) -> str:
    return next((t.name for t in state.teams.values() if t.pk == team_id), "another team")


def _describe(field_name: str, value) -> str:
    if field_name == "is_active":
        return "active" if value else "inactive"
    return f"{field_name} “{value}”"


def _finish(plan: ImportPlan, rp: RowPlan, own_is_new: bool) -> None:
    rp.action = "create" if own_is_new else ("update" if rp.changes else "unchanged")
    plan.rows.append(rp)


class ImportConflict(Conflict):
    """Someone changed the catalogue while the import was being written."""


def catalog_import_apply(data: bytes) -> ImportPlan:
    """Validate `data` again and write every change in one transaction, or none.

    Returns the plan that was applied (its `errors` non-empty means nothing was written).
    Raises FileRefused for an unusable file and ImportConflict if a concurrent edit made
    a unique name clash mid-way.
    """
    try:
        with transaction.atomic():
            plan = catalog_import_plan(data)
            if not plan.errors and plan.changed:
                w = plan.writes
                catalog_bulk_save(
                    teams=w["teams"].values(),
                    groups=w["groups"].values(),
                    categories=w["categories"].values(),
                    subcategories=w["subs"].values(),
                    mappings=w["mappings"].values(),
                    updates=w["updates"],
                    group_spocs=w["spocs"].values(),
                )
                try:
                    form_sheet.apply_form_plans(w.get("form_fields", []))
                except ValidationError as exc:
                    # A code that clashes with an inherited one (checked when written); the
                    # handler below adds that nothing was saved.
                    raise Conflict(f"Form fields: {' '.join(exc.messages)}") from exc
                try:
                    approval_sheet.apply_step_plans(w.get("approval_steps", []))
                except ValidationError as exc:
                    # A step added on the screen meanwhile at the same order.
                    raise Conflict(f"Approval steps: {' '.join(exc.messages)}") from exc
            return plan
    except Conflict as exc:
        # The plan applies the services' rules already, so what is left is a concurrent
        # edit the database's unique constraints caught (services.CONCURRENT_CHANGE).
        raise ImportConflict(
            f"{exc.message} Nothing was saved; upload the file again to see a fresh preview.",
            code="concurrent_change",
        ) from exc


__all__ = [
    "FileRefused",
    "ImportConflict",
    "ImportPlan",
    "catalog_import_apply",
    "catalog_import_plan",
]
