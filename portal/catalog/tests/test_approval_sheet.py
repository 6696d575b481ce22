"""Approval steps travel with master data: the workbook's "Approval steps" sheet, exported
and imported with an exact round trip, checked with the screen's rules, all or nothing,
errors reported by sheet, row and column."""

import io

import openpyxl
import pytest

from portal.accounts.models import User
from portal.catalog import approval_rule_services
from portal.catalog.exporting import catalog_export
from portal.catalog.importing import catalog_import_apply, catalog_import_plan
from portal.catalog.models import ApprovalRule, Category
from portal.catalog.tests.helpers import snapshot
from portal.catalog.tests.workbooks import HEADER
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

STEP_HEADER = [
    "Business Unit Group", "Category", "Subcategory", "Order", "Approvers", "Mode",
    "Named approvers",
]  # fmt: skip
Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode


def _export() -> bytes:
    buffer = io.BytesIO()
    catalog_export(buffer)
    return buffer.getvalue()


def _workbook(catalog_rows, step_rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(HEADER)
    for row in catalog_rows:
        sheet.append(row)
    steps = workbook.create_sheet("Approval steps")
    steps.append(STEP_HEADER)
    for row in step_rows:
        steps.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _state():
    return sorted(
        (r.category_id or 0, r.subcategory_id or 0, r.position, r.approvers, r.mode,
         tuple(sorted(r.users.values_list("email", flat=True))))
        for r in ApprovalRule.objects.all()
    )  # fmt: skip


@pytest.fixture
def steps(org, personas):
    made = [
        approval_rule_services.approval_rule_create(
            category=org.hardware, position=1, approvers=Approvers.MANAGER
        ),
        approval_rule_services.approval_rule_create(
            category=org.hardware,
            position=2,
            approvers=Approvers.USERS,
            mode=Mode.ALL,
            users=[personas.spoc, personas.lead],
        ),  # fmt: skip
        approval_rule_services.approval_rule_create(
            subcategory=org.laptop, position=1, approvers=Approvers.SPOC
        ),
    ]
    return made


def test_the_export_carries_every_step_as_the_import_reads_it(steps):
    workbook = openpyxl.load_workbook(io.BytesIO(_export()))
    rows = [[c or "" for c in row] for row in workbook["Approval steps"].values]
    assert rows == [
        STEP_HEADER,
        ["Group X", "Hardware", "", "1", "manager", "any", ""],
        ["Group X", "Hardware", "", "2", "users", "all", "lead@example.com, spoc@example.com"],
        ["Group X", "Hardware", "Laptop", "1", "spoc", "any", ""],
    ]


def test_exporting_then_importing_changes_nothing(steps):
    data = _export()
    before = _state()
    plan = catalog_import_plan(data)
    assert plan.errors == []
    step_rows = [row for row in plan.rows if row.label.startswith("Approval step")]
    assert len(step_rows) == 3 and {row.action for row in step_rows} == {"unchanged"}
    catalog_import_apply(data)
    assert _state() == before


def test_an_import_onto_an_empty_catalogue_recreates_the_steps_exactly(steps):
    data = _export()
    before = _state()
    ApprovalRule.objects.all().delete()
    plan = catalog_import_apply(data)
    assert plan.errors == []
    assert plan.counts["approval_steps_created"] == 3
    assert _state() == before
    # … and a second import of the same file changes nothing.
    assert not catalog_import_plan(data).counts.get("approval_steps_created")


def test_rows_update_steps_by_place_and_order_and_add_new_ones(org, personas, steps):
    data = _workbook(
        [["Group X", "Hardware", "Laptop", "Team A"]],
        [
            ["Group X", "Hardware", "", "1", "spoc", "all", ""],
            ["Group X", "Hardware", "", "2", "users", "any", "lead@example.com"],
            ["Group X", "Hardware", "Laptop", "2", "manager", "any", ""],
        ],
    )
    plan = catalog_import_apply(data)
    assert plan.errors == []
    assert (plan.counts["approval_steps_updated"], plan.counts["approval_steps_created"]) == (2, 1)
    hardware = {r.position: r for r in ApprovalRule.objects.filter(category=org.hardware)}
    assert (hardware[1].approvers, hardware[1].mode) == ("spoc", "all")
    assert list(hardware[2].users.all()) == [personas.lead]
    assert list(
        ApprovalRule.objects.filter(subcategory=org.laptop).values_list("position", "approvers")
    ) == [(1, "spoc"), (2, "manager")]


def test_a_step_may_sit_on_a_category_the_same_file_creates(org):
    data = _workbook(
        [["Group X", "Furniture", "", "Team A"]],
        [["Group X", "Furniture", "", "1", "spoc", "any", ""]],
    )
    plan = catalog_import_apply(data)
    assert plan.errors == []
    furniture = Category.objects.get(name="Furniture")
    assert ApprovalRule.objects.get(category=furniture).approvers == "spoc"


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (["Group X", "Hardware", "", "first", "spoc", "any", ""], "Order", "whole number"),
        (["Group X", "Hardware", "", "0", "spoc", "any", ""], "Order", "from 1 to 99"),
        (["Group X", "Hardware", "", "100", "spoc", "any", ""], "Order", "from 1 to 99"),
        (["Group X", "Hardware", "", "3", "boss", "any", ""], "Approvers", "Choose who"),
        (["Group X", "Hardware", "", "3", "spoc", "most", ""], "Mode", "any"),
        (["Group X", "Hardware", "", "3", "users", "any", ""], "Named approvers", "at least"),
        (["Group X", "Hardware", "", "3", "spoc", "any", "lead@example.com"],
         "Named approvers", "Only named"),
        (["Group X", "Hardware", "", "3", "users", "any", "nobody@example.com"],
         "Named approvers", "nobody@example.com"),
        (["Group X", "Hardware", "", "3", "users", "any", "gone@example.com"],
         "Named approvers", "gone@example.com"),
        (["Group X", "Nowhere", "", "1", "spoc", "any", ""], "Category", "No such"),
        (["Group X", "Hardware", "Nowhere", "1", "spoc", "any", ""], "Category", "No such"),
    ],
)  # fmt: skip
def test_a_bad_row_is_reported_by_sheet_row_and_column_and_nothing_is_written(
    org, steps, row, column, words
):
    User.objects.create_user("gone@example.com", PASSWORD, is_active=False)
    # A good row and a new category before the bad one: neither is written either.
    data = _workbook(
        [["Group X", "Furniture", "", "Team A"]],
        [["Group X", "Hardware", "", "1", "spoc", "all", ""], row],
    )
    before, catalogue = _state(), snapshot()
    plan = catalog_import_apply(data)
    assert [(e.sheet, e.row, e.column) for e in plan.errors] == [("Approval steps", 3, column)]
    assert words in plan.errors[0].message
    assert (_state(), snapshot()) == (before, catalogue)


def test_two_rows_with_one_order_in_one_place_are_refused(org, steps):
    data = _workbook(
        [["Group X", "Hardware", "", "Team A"]],
        [
            ["Group X", "Hardware", "", "4", "spoc", "any", ""],
            ["group x", "HARDWARE", "", "4", "manager", "any", ""],
        ],
    )
    before = _state()
    plan = catalog_import_apply(data)
    assert [(e.sheet, e.row, e.column) for e in plan.errors] == [("Approval steps", 3, "Order")]
    assert "Row 2" in plan.errors[0].message
    assert _state() == before


def test_a_sheet_without_the_needed_columns_is_refused(org, steps):
    workbook = openpyxl.load_workbook(
        io.BytesIO(_workbook([["Group X", "Hardware", "", "Team A"]], []))
    )
    workbook["Approval steps"].delete_cols(5)  # no Approvers column
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = _state()
    plan = catalog_import_apply(buffer.getvalue())
    assert [(e.sheet, e.row) for e in plan.errors] == [("Approval steps", 1)]
    assert "Approvers" in plan.errors[0].message
    assert _state() == before
