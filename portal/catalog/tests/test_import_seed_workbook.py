"""The seed's workbook shape: S.No | Business Unit Group | Category | Sub Category | SPOC Email,
one row per subcategory, blanks where the group or category repeats, no Team column; and
the gaps an import would leave (groups with no SPOC, combinations reaching no team, teams
with no active member)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from portal.catalog.importing import catalog_import_apply, catalog_import_plan
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
)
from portal.catalog.spreadsheet import FileRefused
from portal.catalog.tests.helpers import snapshot
from portal.catalog.tests.workbooks import HEADER, SEED_HEADER, SEED_ROWS, seed_workbook, xlsx

pytestmark = pytest.mark.django_db


def gaps(plan) -> list[tuple[str, str, str, int]]:
    return [(g.kind, g.subject, g.reason, g.row) for g in plan.gaps]


def test_the_seeds_workbook_is_read_and_the_preview_says_which_column_is_what(personas):
    plan = catalog_import_plan(seed_workbook())
    assert plan.errors == [] and plan.notices == []
    assert plan.columns == [
        ("A", "S.No", "", "a serial number: ignored"),
        ("B", "Business Unit Group", "group", "Business Unit Group"),
        ("C", "Category", "category", "Category"),
        ("D", "Sub Category", "subcategory", "Subcategory"),
        ("E", "SPOC Email", "spocs", "SPOC emails"),
    ]
    assert plan.row_counts == {"create": 6, "update": 0, "unchanged": 0}


def test_blank_group_and_category_cells_are_filled_from_the_row_above(personas):
    plan = catalog_import_plan(seed_workbook())
    assert [(r.number, r.label, r.filled) for r in plan.rows] == [
        (2, "Information Technology / Hardware / Laptop", ""),
        (3, "Information Technology / Hardware / Desktop", "group and category from row 2"),
        (4, "Information Technology / Network / VPN", "group from row 3"),
        (5, "Information Technology / Network / Wi-Fi", "group and category from row 4"),
        (6, "Human Resources / Payroll / Payslip", ""),
        (7, "Human Resources / Payroll / Tax form", "group and category from row 6"),
    ]

    catalog_import_apply(seed_workbook())
    it = BusinessUnitGroup.objects.get(name="Information Technology")
    assert sorted(
        Subcategory.objects.filter(category__group=it).values_list("name", flat=True)
    ) == [
        "Desktop",
        "Laptop",
        "VPN",
        "Wi-Fi",
    ]
    assert Category.objects.get(name="Network").group == it
    assert not catalog_import_plan(seed_workbook()).changed  # the same file again: no change


def test_the_spoc_email_column_sets_the_groups_spocs(personas):
    catalog_import_apply(seed_workbook())
    it = BusinessUnitGroup.objects.get(name="Information Technology")
    assert list(it.spocs.values_list("email", flat=True)) == ["spoc@example.com"]

    rows = [
        [1, "Information Technology", "Hardware", "Laptop", "lead@example.com; agent@example.com"]
    ]
    plan = catalog_import_plan(seed_workbook(rows))
    assert plan.rows[0].changes == ["SPOCs: agent@example.com, lead@example.com"]
    catalog_import_apply(seed_workbook(rows))
    assert sorted(it.spocs.values_list("email", flat=True)) == [
        "agent@example.com",
        "lead@example.com",
    ]


def test_an_unknown_spoc_email_is_a_row_error_and_nothing_is_written(personas):
    rows = [[1, "Information Technology", "Hardware", "Laptop", "nobody@example.com"]]
    before = snapshot()
    plan = catalog_import_apply(seed_workbook(rows))
    assert snapshot() == before
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (
            2,
            "SPOC Email",
            "No active user has the email nobody@example.com. A SPOC must be a user of the "
            "portal: add the user first, or remove the email.",
        )
    ]


@pytest.mark.parametrize(
    "header",
    [
        ["BU", "Category", "Subcategory", "SPOC"],
        ["Business Unit", "CATEGORY", "Sub-category", "SPOC Email(s)"],
        ["business unit group", "category", "sub category", "spoc emails"],
        ["Sl No", "BU", "Category", "Sub_Category", "SPOCs"],
    ],
)
def test_common_header_spellings_are_accepted(personas, header):
    row = ["Travel", "Booking", "Flights", "spoc@example.com"]
    if len(header) == 5:
        row = [1, *row]
    plan = catalog_import_plan(xlsx([row], header=header))
    assert plan.errors == [] and plan.notices == []
    assert [c[2] for c in plan.columns if c[2]] == ["group", "category", "subcategory", "spocs"]
    catalog_import_apply(xlsx([row], header=header))
    travel = BusinessUnitGroup.objects.get(name="Travel")
    assert list(travel.spocs.values_list("email", flat=True)) == ["spoc@example.com"]


def test_a_missing_column_error_names_only_the_required_columns(personas):
    with pytest.raises(FileRefused) as caught:
        catalog_import_plan(xlsx([["IT", "x"]], header=["S.No", "Business Unit", "Category"]))
    message = str(caught.value)
    assert message.startswith(
        "The sheet “Catalog” is missing the required column Subcategory. The required "
        "columns are Business Unit Group, Category and Subcategory"
    )
    assert "Team" not in message and "SPOC" not in message and "Active" not in message


def test_rows_without_a_team_create_unrouted_combinations_shown_as_gaps(personas):
    plan = catalog_import_plan(seed_workbook())
    assert gaps(plan) == [
        ("no_spoc", "Human Resources", "no active SPOC is named", 6),
        ("no_team", "Information Technology / Hardware / Laptop", "no team is mapped", 2),
        ("no_team", "Information Technology / Hardware / Desktop", "no team is mapped", 3),
        ("no_team", "Information Technology / Network / VPN", "no team is mapped", 4),
        ("no_team", "Information Technology / Network / Wi-Fi", "no team is mapped", 5),
        ("no_team", "Human Resources / Payroll / Payslip", "no team is mapped", 6),
        ("no_team", "Human Resources / Payroll / Tax form", "no team is mapped", 7),
    ]
    catalog_import_apply(seed_workbook())
    assert not ClassificationMapping.objects.exists()


def test_the_preview_warns_of_teams_with_no_active_member_and_inactive_teams(org, personas):
    org.team_b.is_active = False
    org.team_b.save()
    rows = [
        ["Group X", "Hardware", "Laptop", "Team A"],  # staffed: no gap
        ["Group X", "Hardware", "Dock", "Brand New Team"],
        ["Group Y", "Payroll", "Payslip", "Team B"],  # inactive, and Payroll has no route
        ["Group Y", "Travel", "", "Empty Team"],
    ]
    Team.objects.create(name="Empty Team")
    plan = catalog_import_plan(xlsx(rows, header=HEADER[:4]))
    assert gaps(plan) == [
        ("no_member", "Brand New Team", "a new team: add its members after the import", 3),
        ("no_member", "Empty Team", "it has no active member", 5),
        ("no_spoc", "Group Y", "no active SPOC is named", 4),
        ("no_team", "Group Y / Payroll / Payslip", "mapped only to the inactive team Team B", 4),
    ]


def test_the_import_page_shows_columns_filled_values_and_gaps(personas, client_for):
    admin = client_for(personas.admin)
    response = admin.post(
        "/masters/import", {"file": SimpleUploadedFile("Ticket-portal.xlsx", seed_workbook())}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<tr data-column="D"><td>D</td><td>Sub Category</td><td>Subcategory</td></tr>' in html
    assert "<em>a serial number: ignored</em>" in html
    assert "Information Technology / Network / Wi-Fi <span" in html
    assert "(group and category from row 4)" in html
    assert 'data-gaps="7"' in html
    assert "Human Resources: no active SPOC is named (row 6)" in html

    response = admin.post("/masters/import/apply", {"token": response.context["token"]})
    assert response.status_code == 200
    assert "Gaps left by" in response.content.decode()


def test_the_command_lists_the_gaps(personas, tmp_path, capsys):
    path = tmp_path / "Ticket-portal.xlsx"
    path.write_bytes(seed_workbook(SEED_ROWS[:1]))
    call_command("import_catalog", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "  column A “S.No”: a serial number: ignored" in out
    assert "  gap: Information Technology / Hardware / Laptop: no team is mapped (row 2)" in out
    assert SEED_HEADER[3] in out


@pytest.mark.parametrize("rows", [6, 60])
def test_the_preview_takes_the_same_queries_however_many_rows(
    org, personas, django_assert_num_queries, rows
):
    sheet = [
        [n, "Group X" if n == 1 else None, "Hardware", f"Item {n}", None] for n in range(1, rows)
    ]
    sheet[0][4] = "spoc@example.com"
    data = seed_workbook(sheet)
    # The catalogue, one query per table: groups, categories, subcategories, teams,
    # mappings, SPOC links, the SPOC emails' users; then the gaps: active members of the
    # teams reached, active users among the SPOCs.
    with django_assert_num_queries(9):
        plan = catalog_import_plan(data)
    assert plan.errors == [] and len(plan.rows) == rows - 1
