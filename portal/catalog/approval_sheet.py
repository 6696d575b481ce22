"""Approval steps in the master-data workbook: one sheet, "Approval steps", one row per step.

A step is known by where it sits and its order (unique there, approval_rule_services), so
a row with the order of an existing step updates it and any other row adds one; the import
never removes a step (the screen does), like the catalogue and form-field sheets. Every
cell is written as the text the import reads back, so exporting and importing reports no
change. Rows are checked with the screen's rules before anything is written, and written in
the import's one transaction after the catalogue's and the form fields' rows (so a step may
sit on a category the same file creates).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from portal.catalog import approval_rule_services
from portal.catalog.form_sheet import FieldRow, read_sheet_rows
from portal.catalog.forms import parse_emails, users_by_email
from portal.catalog.models import (
    ApprovalRule,
    BusinessUnitGroup,
    Category,
    Subcategory,
    name_key,
)
from portal.catalog.spreadsheet import Problem

SHEET = "Approval steps"
HEADERS = {
    "group": "Business Unit Group",
    "category": "Category",
    "subcategory": "Subcategory",
    "order": "Order",
    "approvers": "Approvers",
    "mode": "Mode",
    "users": "Named approvers",
}
WIDTHS = [24, 28, 28, 8, 12, 8, 50]
REQUIRED = ("group", "category", "order", "approvers", "mode")
# The service's argument names → the sheet's columns.
_SERVICE_COLUMNS = {
    "position": "order", "approvers": "approvers", "mode": "mode", "users": "users",
    "owner": "category",
}  # fmt: skip


def step_rows() -> list[list[str]]:
    """Every step as the sheet's cells (two queries), sorted by where it sits and order."""
    rules = ApprovalRule.objects.select_related(
        "category__group", "subcategory__category__group"
    ).prefetch_related("users")
    rows = []
    for rule in rules:
        category = rule.subcategory.category if rule.subcategory_id else rule.category
        rows.append(
            [
                category.group.name, category.name,
                rule.subcategory.name if rule.subcategory_id else "", str(rule.position),
                rule.approvers, rule.mode, ", ".join(sorted(u.email for u in rule.users.all())),
            ]
        )  # fmt: skip
    return sorted(rows, key=lambda r: (name_key(r[0]), name_key(r[1]), name_key(r[2]), int(r[3])))


@dataclass
class StepPlan:
    row: FieldRow
    action: str  # create | update | unchanged
    changes: list[str]
    spec: dict  # approval_rule_services arguments but the owner and the users
    emails: list[str]
    users: list = field(default_factory=list)  # the named approvers, as planning read them
    rule: ApprovalRule | None = None  # the step an update changes, as planning read it

    @property
    def label(self) -> str:
        v = self.row.values
        where = " / ".join(p for p in (v["group"], v["category"], v.get("subcategory")) if p)
        return f"Approval step {v['order']} on {where}"


def read_step_rows(data: bytes, problems: list[Problem]) -> list[FieldRow]:
    return read_sheet_rows(data, problems, sheet=SHEET, headers=HEADERS, required=REQUIRED)


def plan_step_rows(
    rows: list[FieldRow], catalogue_keys: set[tuple], problems: list[Problem]
) -> list[StepPlan]:
    """Compare the rows with the steps that exist, writing nothing. `catalogue_keys` are the
    (group, category, subcategory) name keys the catalogue sheet names."""
    groups = {g.name_key: g.pk for g in BusinessUnitGroup.objects.all()}
    categories = {(c.group_id, c.name_key): c.pk for c in Category.objects.all()}
    subs = {(s.category_id, s.name_key): s.pk for s in Subcategory.objects.all()}
    existing = {}
    for rule in ApprovalRule.objects.prefetch_related("users"):
        owner = ("s", rule.subcategory_id) if rule.subcategory_id else ("c", rule.category_id)
        existing[(owner, rule.position)] = rule
    wanted = {e for row in rows for e in parse_emails(row.values.get("users", ""))}
    users = {u.email: u for u in users_by_email(sorted(wanted))[0]}

    plans, seen = [], {}
    for row in rows:
        v = row.values

        def refuse(column: str, message: str, row=row) -> None:
            problems.append(Problem(SHEET, row.number, HEADERS[column], message))

        order = v.get("order", "")
        if not (order.isascii() and order.isdigit()):
            refuse("order", "Write a whole number from 1.")
            continue
        place = _place(v)
        category_id = categories.get((groups.get(place[0]), place[1]))
        sub_id = subs.get((category_id, place[2])) if place[2] else None
        if (place[2] and sub_id is None) or category_id is None:
            if place not in catalogue_keys:
                refuse("category", "No such classification, here or on the catalogue sheet.")
                continue
        if (place, int(order)) in seen:
            refuse("order", f"Row {seen[(place, int(order))]} already has this order here.")
            continue
        seen[(place, int(order))] = row.number
        emails = parse_emails(v.get("users", ""))
        unknown = [e for e in emails if e not in users]
        if unknown:
            refuse("users", f"No active user has the email {', '.join(unknown)}.")
            continue
        spec = {"position": int(order), "approvers": v["approvers"], "mode": v["mode"]}
        named = [users[e] for e in emails]
        try:
            approval_rule_services.check_definition(**spec, users=named)
        except ValidationError as error:
            for column, messages in error:
                refuse(_SERVICE_COLUMNS.get(column, "order"), " ".join(messages))
            continue
        owner = ("s", sub_id) if place[2] else ("c", category_id)
        rule = existing.get((owner, int(order))) if owner[1] else None
        if rule is None:
            plans.append(StepPlan(row, "create", ["new approval step"], spec, emails, named))
            continue
        changes = [name for name in ("approvers", "mode") if getattr(rule, name) != spec[name]]
        if {u.pk for u in rule.users.all()} != {u.pk for u in named}:
            changes.append("named approvers")
        action = "update" if changes else "unchanged"
        plans.append(StepPlan(row, action, changes, spec, emails, named, rule))
    return plans


def apply_step_plans(plans: list[StepPlan]) -> None:
    """Write the planned rows (inside the import's transaction, after the catalogue's).

    The plans carry the users and the steps they read (the same transaction); only where
    each step sits is read again, once, as the catalogue's rows may have been made by this
    import."""
    writes = [plan for plan in plans if plan.action != "unchanged"]
    if not writes:
        return
    owners = _owners_by_place()
    for plan in writes:
        owner = owners[_place(plan.row.values)]
        if plan.rule is None:
            approval_rule_services.approval_rule_create(**owner, **plan.spec, users=plan.users)
        else:
            approval_rule_services.approval_rule_update(
                rule=plan.rule, **owner, **plan.spec, users=plan.users
            )


def _place(values: dict) -> tuple[str, str, str]:
    return (
        name_key(values["group"]), name_key(values["category"]),
        name_key(values.get("subcategory", "")),
    )  # fmt: skip


def _owners_by_place() -> dict[tuple[str, str, str], dict]:
    """Every category and subcategory as the owner argument of approval_rule_services,
    by its (group, category, subcategory) name keys (two queries)."""
    owners: dict[tuple[str, str, str], dict] = {}
    for category in Category.objects.select_related("group"):
        owners[(category.group.name_key, category.name_key, "")] = {"category": category}
    for sub in Subcategory.objects.select_related("category__group"):
        place = (sub.category.group.name_key, sub.category.name_key, sub.name_key)
        owners[place] = {"subcategory": sub}
    return owners
