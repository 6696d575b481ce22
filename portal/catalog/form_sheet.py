"""Request forms in the master-data workbook: one sheet, "Form fields", one row per field.

The export writes every field (retired ones too, `Active = no`); the import creates or
updates the fields it names and never deletes, like the catalogue sheet. Every cell is
written as the text the import reads back, so exporting and importing reports no change.
A field's code, type and form never change (form_services): a row that would change them
is an error. Rows are checked with the same rules as the admin screen before anything is
written, and written in the import's one transaction, after the catalogue sheet's rows (so
a form may sit on a category the same file creates).
"""

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from portal.catalog import form_services
from portal.catalog.models import BusinessUnitGroup, Category, FormField, Subcategory, name_key
from portal.catalog.spreadsheet import (
    MAX_ROWS,
    Problem,
    _cell_text,
    _counted_rows,
    _header_key,
    _StreamingReader,
)

SHEET = "Form fields"
HEADERS = {
    "group": "Business Unit Group",
    "category": "Category",
    "subcategory": "Subcategory",
    "key": "Code",
    "label": "Label",
    "type": "Type",
    "required": "Required",
    "order": "Order",
    "options": "Options",
    "min": "Minimum",
    "max": "Maximum",
    "help": "Help text",
    "active": "Active",
}
WIDTHS = [24, 28, 28, 18, 30, 14, 10, 8, 50, 10, 10, 40, 8]
REQUIRED = ("group", "category", "key", "label", "type")
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


def _decimal_text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def form_rows():
    """Every field as the sheet's cells (two queries), grouped by the form it is on."""
    fields = FormField.objects.select_related(
        "category__group", "subcategory__category__group"
    ).order_by("category__group__name", "category__name", "subcategory__name", "position", "id")
    rows = []
    for f in fields:
        category = f.subcategory.category if f.subcategory_id else f.category
        rows.append(
            [
                category.group.name, category.name, f.subcategory.name if f.subcategory_id else "",
                f.key, f.label, f.field_type, "yes" if f.required else "no", str(f.position),
                form_services.format_options(f.options), _decimal_text(f.min_value),
                _decimal_text(f.max_value), f.help_text, "yes" if f.is_active else "no",
            ]
        )  # fmt: skip
    return sorted(rows, key=lambda r: (name_key(r[0]), name_key(r[1]), name_key(r[2])))


# ---------------------------------------------------------------------------------------
# Reading


@dataclass
class FieldRow:
    number: int
    values: dict[str, str]

    @property
    def place(self) -> tuple[str, str, str]:
        v = self.values
        return name_key(v["group"]), name_key(v["category"]), name_key(v.get("subcategory", ""))

    @property
    def label(self) -> str:
        v = self.values
        where = " / ".join(p for p in (v["group"], v["category"], v.get("subcategory")) if p)
        return f"Form field {v['key']} on {where}"


def read_form_rows(data: bytes, problems: list[Problem]) -> list[FieldRow]:
    """The "Form fields" sheet's rows, or none when the workbook has no such sheet. The file
    itself was already accepted by `read_catalog_sheet` (size, zip, macros, entities)."""
    return read_sheet_rows(data, problems, sheet=SHEET, headers=HEADERS, required=REQUIRED)


def read_sheet_rows(
    data: bytes, problems: list[Problem], *, sheet: str, headers: dict, required: tuple
) -> list[FieldRow]:
    """The rows of the workbook's sheet called `sheet` (any case), by the column names of
    `headers` (name → header text; `required` must be present), or none without the sheet.
    Shared by the sheets that travel beside the catalogue (form fields, approval steps)."""
    reader = _StreamingReader(
        io.BytesIO(data), read_only=True, keep_vba=False, data_only=False, keep_links=False
    )
    reader.read()
    workbook = reader.wb
    try:
        found = next(
            (ws for ws in workbook.worksheets if ws.title.strip().casefold() == sheet.casefold()),
            None,
        )
        if found is None:
            return []
        return _rows(found, problems, sheet, headers, required)
    finally:
        workbook.close()


def _rows(worksheet, problems: list[Problem], sheet, headers, required) -> list[FieldRow]:
    columns = {_header_key(text): name for name, text in headers.items()}
    rows = _counted_rows(worksheet)
    positions: dict[str, int] = {}
    for _number, cells in rows:
        if any(c.value not in (None, "") for c in cells):
            for index, cell in enumerate(cells):
                name = columns.get(_header_key(cell.value))
                if name and name not in positions:
                    positions[name] = index
            break
    missing = [headers[n] for n in required if n not in positions]
    if missing:
        problems.append(Problem(sheet, 1, "", f"The sheet needs the columns {', '.join(missing)}."))
        return []
    found = []
    for number, cells in rows:
        values, refused = {}, False
        for name, index in positions.items():
            text, problem = _cell_text(cells[index]) if index < len(cells) else ("", None)
            if problem:
                problems.append(Problem(sheet, number, headers[name], f"The cell {problem}."))
                refused = True  # reported once, not again as an empty value
            values[name] = text
        if any(values.values()) and not refused:
            found.append(FieldRow(number, values))
        if len(found) > MAX_ROWS:
            problems.append(Problem(sheet, number, "", f"More than {MAX_ROWS:,} rows."))
            return []
    return found


# ---------------------------------------------------------------------------------------
# Planning and applying


@dataclass
class FieldPlan:
    row: FieldRow
    action: str  # create | update | unchanged
    changes: list[str]
    spec: dict


def _spec(row: FieldRow, problems: list[Problem]) -> dict | None:
    """The row as form_services arguments, or None with the problem recorded."""
    v = row.values

    def refuse(column: str, message: str) -> None:
        problems.append(Problem(SHEET, row.number, HEADERS[column], message))

    flags = {}
    for column in ("required", "active"):
        word = v.get(column, "").casefold()
        if word not in _YES | _NO:
            refuse(column, "Write yes or no.")
            return None
        flags[column] = word in _YES if word else column == "active"
    bounds = {}
    for column in ("min", "max"):
        try:
            bounds[column] = Decimal(v[column]) if v.get(column) else None
        except InvalidOperation:
            refuse(column, "Write a number, or leave it empty.")
            return None
    order = v.get("order") or "0"
    if not (order.isascii() and order.isdigit()):
        refuse("order", "Write a whole number from 0.")
        return None
    return {
        "key": v["key"],
        "label": v["label"],
        "field_type": v["type"],
        "required": flags["required"],
        "is_active": flags["active"],
        "position": int(order),
        "options": form_services.parse_options(v.get("options", "")),
        "min_value": bounds["min"],
        "max_value": bounds["max"],
        "help_text": v.get("help", ""),
    }


def plan_form_rows(rows: list[FieldRow], catalogue_keys: set[tuple], problems) -> list[FieldPlan]:
    """Compare the rows with the fields that exist. `catalogue_keys` are the (group,
    category, subcategory) name keys the catalogue sheet names, so a form may sit on a
    classification the same file creates."""
    groups = {g.name_key: g.pk for g in BusinessUnitGroup.objects.all()}
    categories = {(c.group_id, c.name_key): c.pk for c in Category.objects.all()}
    subs = {(s.category_id, s.name_key): s.pk for s in Subcategory.objects.all()}
    existing = {}
    for f in FormField.objects.select_related("subcategory"):
        owner = ("s", f.subcategory_id) if f.subcategory_id else ("c", f.category_id)
        existing[(owner, f.key)] = f
    plans, seen = [], {}
    for row in rows:
        spec = _spec(row, problems)
        if spec is None:
            continue
        group_key, category_key, sub_key = row.place
        category_id = categories.get((groups.get(group_key), category_key))
        sub_id = subs.get((category_id, sub_key)) if sub_key else None
        if (sub_key and sub_id is None) or category_id is None:
            if (group_key, category_key, sub_key) not in catalogue_keys:
                problems.append(
                    Problem(SHEET, row.number, HEADERS["category"],
                            "No such classification, here or on the catalogue sheet.")
                )  # fmt: skip
                continue
        owner = ("s", sub_id) if sub_key else ("c", category_id)
        if (row.place, spec["key"]) in seen:
            problems.append(
                Problem(SHEET, row.number, HEADERS["key"],
                        f"Row {seen[(row.place, spec['key'])]} already defines this code here.")
            )  # fmt: skip
            continue
        seen[(row.place, spec["key"])] = row.number
        try:
            _check(spec)
        except ValidationError as error:
            # form_services' refusals are keyed by field (iterating gives the pairs).
            for column, messages in error:
                problems.append(Problem(SHEET, row.number, _column(column), " ".join(messages)))
            continue
        field = existing.get((owner, spec["key"])) if owner[1] else None
        if field is None:
            plans.append(FieldPlan(row, "create", ["new field"], spec))
            continue
        if field.field_type != spec["field_type"]:
            problems.append(
                Problem(SHEET, row.number, HEADERS["type"],
                        f"{spec['key']} is a {field.field_type} field; a type never changes.")
            )  # fmt: skip
            continue
        changes = _changes(field, spec)
        plans.append(FieldPlan(row, "update" if changes else "unchanged", changes, spec))
    return plans


# form_services' error keys → the sheet's columns.
_SERVICE_COLUMNS = {
    "key": "key", "label": "label", "field_type": "type", "options": "options",
    "min_value": "min", "max_value": "max", "help_text": "help", "position": "order",
}  # fmt: skip


def _column(service_field: str) -> str:
    return HEADERS.get(_SERVICE_COLUMNS.get(service_field, ""), "")


def _check(spec: dict) -> None:
    """The admin screen's rules on one row, without writing (code, type, options, bounds)."""
    probe = FormField(key=spec["key"], field_type=spec["field_type"])
    if not form_services.KEY_RE.match(spec["key"]):
        raise ValidationError({"key": "Use 1–30 lower-case letters, digits or _."})
    if spec["field_type"] not in FormField.Type.values:
        raise ValidationError({"field_type": f"Use one of {', '.join(FormField.Type.values)}."})
    form_services.apply_definition(probe, **_definition(spec))


def _definition(spec: dict) -> dict:
    return {
        name: spec[name]
        for name in (
            "label", "help_text", "required", "position", "options", "min_value", "max_value",
        )
    }  # fmt: skip


def _changes(field: FormField, spec: dict) -> list[str]:
    probe = FormField(key=field.key, field_type=field.field_type)
    form_services.apply_definition(probe, **_definition(spec))
    names = ["label", "help_text", "required", "position", "options", "min_value", "max_value"]
    changes = [
        name.replace("_", " ") for name in names if getattr(probe, name) != getattr(field, name)
    ]
    if field.is_active != spec["is_active"]:
        changes.append("retired" if field.is_active else "asked again")
    return changes


def apply_form_plans(plans: list[FieldPlan]) -> None:
    """Write the planned rows (inside the import's transaction, after the catalogue's)."""
    groups = {g.name_key: g for g in BusinessUnitGroup.objects.all()}
    for plan in plans:
        if plan.action == "unchanged":
            continue
        group_key, category_key, sub_key = plan.row.place
        category = Category.objects.get(group=groups[group_key], name_key=category_key)
        owner = (
            {"subcategory": Subcategory.objects.get(category=category, name_key=sub_key)}
            if sub_key
            else {"category": category}
        )
        spec = plan.spec
        if plan.action == "create":
            form_services.form_field_create(**owner, **spec)
            continue
        field = FormField.objects.get(**owner, key=spec["key"])
        form_services.form_field_update(field=field, **_definition(spec))
        if spec["is_active"] != field.is_active:
            if spec["is_active"]:
                form_services.form_field_reactivate(field=field)
            else:
                form_services.form_field_retire(field=field)
