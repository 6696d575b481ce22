"""Excel import (preview, all-or-nothing apply, idempotence), export and the bad files."""

import io
from types import SimpleNamespace

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl.styles import Font

from portal.catalog import spreadsheet
from portal.catalog.exporting import catalog_export
from portal.catalog.importing import catalog_import_apply, catalog_import_plan
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    PendingImport,
    Subcategory,
)
from portal.catalog.selectors import active_team_choices, attach_master_rows
from portal.catalog.spreadsheet import FileRefused
from portal.catalog.tests.helpers import snapshot
from portal.catalog.tests.workbooks import (
    HEADER,
    encrypted,
    streamed,
    with_broken_tail,
    with_entities,
    with_macros,
    xlsx,
)

pytestmark = pytest.mark.django_db


def export_bytes() -> bytes:
    buffer = io.BytesIO()
    catalog_export(buffer)
    return buffer.getvalue()


ROWS = [
    ["IT", "", "", "", "spoc@example.com", "", "yes"],
    ["IT", "Hardware", "", "Service Desk", "", "Medium", ""],
    ["IT", "Hardware", "Laptop", "Service Desk", "", "", ""],
    ["IT", "Hardware", "Docking station", "Field Engineers", "", "High", ""],
    ["HR", "Payroll", "Payslip", "People Team", "", "", "no"],
]


@pytest.mark.smoke
def test_a_new_catalogue_is_previewed_then_created_in_full(personas):
    data = xlsx(ROWS)
    before = snapshot()
    plan = catalog_import_plan(data)
    assert snapshot() == before  # the preview writes nothing
    assert plan.errors == []
    assert plan.row_counts == {"create": 5, "update": 0, "unchanged": 0}

    catalog_import_apply(data)
    it = BusinessUnitGroup.objects.get(name="IT")
    assert list(it.spocs.values_list("email", flat=True)) == ["spoc@example.com"]
    assert BusinessUnitGroup.objects.get(name="HR").code == "HR"
    hardware = it.categories.get(name="Hardware")
    any_sub = ClassificationMapping.objects.get(category=hardware, subcategory=None)
    assert (any_sub.team.name, any_sub.default_priority) == ("Service Desk", "medium")
    dock = ClassificationMapping.objects.get(subcategory__name="Docking station")
    assert (dock.team.name, dock.default_priority) == ("Field Engineers", "high")
    assert Subcategory.objects.get(name="Payslip").is_active is False


@pytest.mark.smoke
def test_importing_the_same_file_twice_changes_nothing_the_second_time(personas):
    data = xlsx(ROWS)
    catalog_import_apply(data)
    before = snapshot()
    plan = catalog_import_apply(data)
    assert plan.row_counts == {"create": 0, "update": 0, "unchanged": 5}
    assert not plan.changed
    assert snapshot() == before


@pytest.mark.smoke
def test_export_then_import_reports_zero_changes(org, personas):
    org.team_a.name = '=HYPERLINK("http://evil.example","x")'
    org.team_a.save()
    Subcategory.objects.create(category=org.payroll, name="+Bonus", is_active=False)
    data = export_bytes()
    plan = catalog_import_plan(data)
    assert plan.errors == []
    assert plan.row_counts["create"] == plan.row_counts["update"] == 0
    assert plan.row_counts["unchanged"] == 7  # 2 groups, 2 categories, 3 subcategories


def test_export_writes_values_that_look_like_formulas_as_text(org):
    org.team_a.name = "=1+2"
    org.team_a.save()
    Category.objects.create(group=org.group_y, name="@SUM(A1)")
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes())).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value]
    risky = [c for c in cells if str(c.value)[:1] in "=+-@"]
    assert {c.value for c in risky} == {"=1+2", "@SUM(A1)"}
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == HEADER


def test_a_changed_row_is_an_update_and_names_what_changes(org):
    rows = [["Group X", "Hardware", "Laptop", "Team B", "", "Urgent", ""]]
    plan = catalog_import_plan(xlsx(rows))
    assert plan.row_counts == {"create": 1, "update": 0, "unchanged": 0}  # a new route
    catalog_import_apply(xlsx(rows))
    rows = [["Group X", "Hardware", "Laptop", "Team A", "", "Urgent", "no"]]
    plan = catalog_import_plan(xlsx(rows))
    assert plan.row_counts == {"create": 0, "update": 1, "unchanged": 0}
    assert "route to Team A instead of Team B" in plan.rows[0].changes
    assert "subcategory: inactive" in plan.rows[0].changes


def test_headers_match_case_insensitively_and_extra_columns_are_ignored_with_a_notice(org):
    header = ["  business unit GROUP", "CATEGORY", "subcategory", "team", "Notes"]
    plan = catalog_import_plan(xlsx([["Group X", "Hardware", "", "Team A", "hi"]], header=header))
    assert plan.errors == []
    assert plan.notices == ["Column E (“Notes”) is not part of the layout and was ignored."]
    assert plan.row_counts["unchanged"] == 1


def refused(data: bytes) -> str:
    before = snapshot()
    with pytest.raises(FileRefused) as caught:
        catalog_import_apply(data)
    assert snapshot() == before
    return str(caught.value)


def row_errors(data: bytes) -> list[tuple[int, str, str]]:
    before = snapshot()
    plan = catalog_import_apply(data)
    assert snapshot() == before  # all or nothing: one bad row, nothing written
    assert plan.errors
    return [(e.row, e.column, e.message) for e in plan.errors]


def test_a_file_that_is_not_a_workbook_is_refused(org):
    assert refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100) == "This is not an Excel workbook (.xlsx)."


@pytest.mark.smoke
def test_a_csv_renamed_to_xlsx_is_refused(org):
    assert "CSV or text file renamed" in refused(b"Business Unit Group,Category\nIT,Hardware\n")


def test_a_password_protected_workbook_is_refused(org):
    assert "password-protected" in refused(encrypted())


def test_a_macro_enabled_workbook_is_refused(org):
    assert "contains macros" in refused(with_macros(xlsx(ROWS)))


def test_an_empty_sheet_is_refused(org):
    assert "is empty" in refused(xlsx([], header=None))
    assert "no data under it" in refused(xlsx([]))


def test_missing_required_columns_are_named(org):
    message = refused(xlsx([["IT"]], header=["Business Unit Group", "Team"]))
    assert message.startswith(
        "The sheet “Catalog” is missing the required columns Category and Subcategory. "
        "The required columns are Business Unit Group, Category and Subcategory"
    )


def test_a_file_over_ten_megabytes_is_refused(org):
    assert "the limit is 10 MB" in refused(b"PK\x03\x04" + b"\x00" * spreadsheet.MAX_BYTES)


def test_a_sheet_over_fifty_thousand_rows_is_refused(org):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Catalog")
    sheet.append(HEADER)
    for n in range(spreadsheet.MAX_ROWS + 1):
        sheet.append(["IT", "Hardware", f"Item {n}", "Desk"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "more than 50,000 rows" in refused(buffer.getvalue())


def test_a_header_over_a_long_run_of_blank_rows_is_refused_without_reading_them_all(org):
    # The attack file was 1,048,575 such rows (5.4 MB); bench/catalog_import.py --blank-rows
    # times that one. Past the first run of blank rows, nothing more is read.
    message = refused(streamed([[""]] * (spreadsheet.MAX_BLANK_RUN * 5)))
    assert message == (
        "The sheet “Catalog” has a header row but no data under it "
        "(reading stops after a run of blank rows)."
    )
    message = refused(streamed([[""]] * (spreadsheet.MAX_BLANK_RUN + 1), header=None))
    assert message == (
        "The sheet “Catalog” is empty: it needs a header row and data "
        "(its first 1,000 rows are blank)."
    )


def test_nothing_past_the_run_of_blank_rows_is_parsed_not_even_to_open_the_sheet(org):
    # openpyxl parsed a sheet without a declared dimension to its end while opening it
    # (the 5 s of the 20 s the attack file took); the end of this one is broken XML.
    data = with_broken_tail(streamed([[""]] * (spreadsheet.MAX_BLANK_RUN + 10)))
    assert refused(data).endswith("no data under it (reading stops after a run of blank rows).")


def test_reading_stops_after_a_run_of_blank_rows_and_the_preview_says_so(org):
    rows = [["Group X", "Hardware", "Laptop", "Team A"]]
    rows += [[""]] * spreadsheet.MAX_BLANK_RUN
    rows += [["Group X", "Hardware", "Far below", "Team A"]]
    plan = catalog_import_plan(streamed(rows))
    assert [r.number for r in plan.rows] == [2]
    assert plan.notices == [
        "Rows 3–1,002 are blank, so reading stopped at row 1,002; anything below it was "
        "not read. Move data below a gap that long up and import again."
    ]


def test_blank_rows_count_toward_the_rows_read(org):
    # Blank rows are never counted as data (50,000), but every row read counts (60,000):
    # 61 data rows each followed by 999 blank ones are refused.
    block = [["Group X", "Hardware", "Laptop", "Team A"]] + [[""]] * 999
    message = refused(streamed(block * 61))
    assert message == (
        "The sheet “Catalog” has more than 60,000 rows, counting blank ones (at most 50,000 "
        "rows of data). Delete the blank rows between the data, or split the file and import "
        "each part."
    )


def test_a_sheet_declaring_a_million_rows_is_refused_before_reading_them(org):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(HEADER[:4])
    sheet.append(["Group X", "Hardware", "Laptop", "Team A"])
    sheet.cell(row=1_048_576, column=1).font = Font(bold=True)  # formatting, no value
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert refused(buffer.getvalue()).startswith(
        "The sheet “Catalog” declares 1,048,576 rows (A1:D1048576); an import reads at most "
        "60,000 rows, blank ones included, and at most 50,000 rows of data. If the rows "
        "below your data are empty, delete them in Excel"
    )


def test_the_command_and_the_page_refuse_a_sheet_of_blank_rows(personas, client_for, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = streamed([[""]] * (spreadsheet.MAX_BLANK_RUN * 5))
    path = tmp_path / "blank.xlsx"
    path.write_bytes(data)
    with pytest.raises(CommandError, match=r"no data under it \(reading stops after a run"):
        call_command("import_catalog", str(path), "--dry-run")
    response = client_for(personas.admin).post(
        "/masters/import", {"file": SimpleUploadedFile("blank.xlsx", data)}
    )
    assert response.status_code == 400
    assert "no data under it (reading stops after a run of blank rows)" in response.content.decode()
    assert not PendingImport.objects.exists()


def test_formulas_where_values_are_expected_are_reported_by_cell(org):
    errors = row_errors(xlsx([["Group X", "Hardware", "Laptop", '=CONCAT("Team"," A")']]))
    assert errors == [
        (2, "Team", 'The cell has a formula (=CONCAT("Team"," A")); type the value itself.')
    ]


def test_unknown_spoc_emails_are_reported_by_row(org):
    errors = row_errors(xlsx([["Group X", "", "", "", "spoc@example.com, nobody@example.com"]]))
    assert errors == [
        (
            2,
            "SPOC emails",
            "No active user has the email nobody@example.com. A SPOC must be a user of the "
            "portal: add the user first, or remove the email.",
        )
    ]


def test_duplicate_rows_with_conflicting_teams_are_refused(org):
    rows = [
        ["Group X", "Hardware", "Laptop", "Team A"],
        ["Group X", "Hardware", "Laptop", "Team A"],  # an exact repeat is only a notice
        ["group x", " hardware ", "LAPTOP", "Team B"],
    ]
    errors = row_errors(xlsx(rows))
    assert errors == [
        (4, "Team", "Row 2 maps the same classification to “Team A”, this row to “Team B”.")
    ]


def test_bad_values_are_reported_with_sheet_row_column_and_message(org):
    plan = catalog_import_plan(
        xlsx(
            [
                ["", "Hardware", "", "Team A"],  # no group, and no row above to take it from
                ["Group X", "Hardware", "Laptop", "Team A", "", "Whenever", "maybe"],
            ],
            title="Routing",
        )
    )
    assert [(e.sheet, e.row, e.column) for e in plan.errors] == [
        ("Routing", 2, "Business Unit Group"),
        ("Routing", 3, "Active"),
        ("Routing", 3, "Default priority"),
    ]


def test_the_commands_export_preview_and_import(org, tmp_path, capsys):
    path = tmp_path / "catalog.xlsx"
    call_command("export_catalog", str(path))
    call_command("import_catalog", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "0 rows to create, 0 to update, 6 unchanged, 0 errors" in out
    assert "Dry run: nothing was written." in out

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([["Group X", "Hardware", "", "Team A", "ghost@example.com"]]))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_catalog", str(bad))


def test_a_group_row_after_its_subcategories_still_applies_its_state(personas):
    rows = [
        ["Travel", "Booking", "Flights", "Travel Desk"],
        ["Travel", "", "", "", "spoc@example.com", "", "no"],
    ]
    plan = catalog_import_plan(xlsx(rows))
    assert [(r.number, r.action) for r in plan.rows] == [(2, "create"), (3, "update")]
    catalog_import_apply(xlsx(rows))
    travel = BusinessUnitGroup.objects.get(name="Travel")
    assert travel.is_active is False
    assert [u.email for u in travel.spocs.all()] == ["spoc@example.com"]
    assert not catalog_import_plan(xlsx(rows)).changed


def test_xml_entity_declarations_are_refused(org):
    assert "XML entity or DTD declarations" in refused(with_entities(xlsx(ROWS)))


def test_an_import_shows_at_once_in_the_cached_master_rows_and_list_filters(
    personas, org, client_for
):
    # The ticket list's filter selects, its bulk-move teams and the master rows of its
    # tickets are cached for everyone; the import's bulk writes send no model signals.
    admin = client_for(personas.admin)
    assert "Service Desk" not in admin.get("/tickets").content.decode()
    assert "Service Desk" not in [name for _, name in active_team_choices()]
    ticket_like = SimpleNamespace(
        group_id=org.group_x.pk, category_id=None, subcategory_id=None, team_id=None
    )
    attach_master_rows([ticket_like])
    assert ticket_like.group.is_active

    catalog_import_apply(xlsx([*ROWS, ["Group X", "", "", "", "spoc@example.com", "", "no"]]))

    page = admin.get("/tickets").content.decode()
    assert f'<option value="{BusinessUnitGroup.objects.get(name="IT").pk}">IT</option>' in page
    assert "Service Desk" in [name for _, name in active_team_choices()]
    attach_master_rows([ticket_like])
    assert not ticket_like.group.is_active
