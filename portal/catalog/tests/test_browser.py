"""In Chromium: importing a workbook through the UI, and the htmx dependent selects."""

import pytest
from playwright.sync_api import expect

from portal.catalog.models import ClassificationMapping, Subcategory, TeamMember
from portal.catalog.tests.workbooks import xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    """Collects CSP violations and script errors, which must stay empty."""
    problems: list[str] = []
    # Failed loads are reported below with their URL, so the console's copy is skipped.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    # Browsers ask for /favicon.ico on their own; the portal does not serve one (yet).
    page.on(
        "response",
        lambda r: r.status >= 400 and "favicon" not in r.url and problems.append(r.url),
    )
    return problems


def test_an_admin_imports_a_workbook_sees_the_preview_then_the_result(
    page_for, org, personas, tmp_path
):
    path = tmp_path / "catalog.xlsx"
    path.write_bytes(
        xlsx(
            [
                ["Group X", "Hardware", "Docking station", "Team B", "", "High", ""],
                ["Group X", "Hardware", "Laptop", "Team A", "", "", ""],
                ["Group Y", "Payroll", "", "Team B", "", "", ""],
            ]
        )
    )
    page = page_for(personas.admin)
    problems = watch_console(page)
    page.goto("/masters/import")
    page.get_by_label("Workbook (.xlsx)").set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Import preview: catalog.xlsx"
    assert page.locator('[data-count="create"]').inner_text() == "3"
    assert page.get_by_role("cell", name="Group X / Hardware / Docking station").is_visible()
    assert not Subcategory.objects.filter(name="Docking station").exists()

    page.get_by_role("button", name="Apply these changes").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import finished: catalog.xlsx"
    assert page.get_by_text("Subcategories created: 1").is_visible()
    mapping = ClassificationMapping.objects.get(subcategory__name="Docking station")
    assert (mapping.team, mapping.default_priority) == (org.team_b, "high")
    assert problems == []


def test_choosing_a_group_then_a_category_reloads_the_dependent_lists(page_for, org, personas):
    page = page_for(personas.admin)
    problems = watch_console(page)
    page.goto("/masters/mappings/new")
    category = page.get_by_label("Category", exact=True)
    subcategory = page.get_by_label("Subcategory", exact=True)
    assert category.locator("option").count() == 1  # nothing until a group is chosen

    page.get_by_label("Business unit group").select_option(label="Group X")
    expect(category.locator("option")).to_have_count(2)
    category.select_option(label="Hardware")
    expect(subcategory.locator("option")).to_have_count(3)
    assert subcategory.locator("option").all_inner_texts() == [
        "Any subcategory",
        "Laptop",
        "Printer",
    ]

    # Changing the group empties the subcategories again.
    page.get_by_label("Business unit group").select_option(label="Group Y")
    expect(subcategory.locator("option")).to_have_count(1)
    category.select_option(label="Payroll")
    page.get_by_label("Team").select_option(label="Team B")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/masters/mappings")
    assert ClassificationMapping.objects.filter(
        category=org.payroll, subcategory=None, team=org.team_b
    ).exists()
    assert problems == []


def test_one_click_on_the_coverage_report_closes_a_gap_in_place(page_for, org, personas):
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)  # a route reaches her
    Subcategory.objects.create(category=org.payroll, name="Payslip")
    Subcategory.objects.create(category=org.payroll, name="Tax form")
    page = page_for(personas.admin)
    problems = watch_console(page)
    page.goto("/masters/coverage")
    summary = page.locator("#coverage-summary")
    expect(summary).to_contain_text("2 gaps · 2 of 4 combinations routed · 50% covered")
    status = page.get_by_role("status").and_(page.locator("#coverage-status"))
    expect(status).to_have_text("")
    row = page.locator("tr.gap", has_text="Payslip")
    row.get_by_label("Team for Payroll / Payslip").select_option(label="Team B")
    row.get_by_role("button", name="Add mapping").click()

    closed = page.locator("tr.gap-closed")
    expect(closed).to_contain_text("Now routed to Team B")
    assert page.url.endswith("/masters/coverage")  # swapped in place, no navigation
    # The summary is current without a reload, and the live region says the new counts.
    expect(summary).to_contain_text("1 gap · 3 of 4 combinations routed · 75% covered")
    expect(summary.locator("progress")).to_have_attribute("value", "3")
    expect(page.locator("#coverage-summary")).to_have_count(1)
    expect(status).to_have_text("Payroll / Payslip: now routed to Team B. 1 gap left, 75% covered.")
    expect(closed.locator("[autofocus]")).to_be_focused()  # the focus stays on the row
    assert ClassificationMapping.objects.filter(
        subcategory__name="Payslip", team=org.team_b
    ).exists()
    assert problems == []
