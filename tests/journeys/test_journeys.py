"""Whole journeys through the portal as people use it: a real browser against the server
started the way `make run` starts it, on the demo data (see conftest.py).

Each journey raises its own tickets, so the journeys do not depend on one another's order.
"""

import csv
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.journeys.steps import HARDWARE_ANSWERS, fact, history, login, raise_ticket

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]


def test_admin_imports_a_workbook_closes_its_coverage_gap_and_tickets_reach_the_team(
    new_page, tmp_path
):
    # A workbook in the documented layout (docs/catalog.md) adding an IT category whose
    # "Toner" subcategory has a team and whose "Plotter" subcategory has none.
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(["Business Unit Group", "Category", "Subcategory", "Team", "Default priority"])
    sheet.append(["IT", "Printing", "", "", ""])
    sheet.append(["IT", "Printing", "Toner", "IT Service Desk", "Low"])
    sheet.append(["IT", "Printing", "Plotter", "", ""])
    path = tmp_path / "printing.xlsx"
    workbook.save(path)

    admin = new_page()
    login(admin, "admin@example.com")
    admin.goto("/masters/import")
    admin.get_by_label("Workbook (.xlsx)").set_input_files(path)
    admin.get_by_role("button", name="Preview").click()
    expect(admin.get_by_role("heading", name="Import preview: printing.xlsx")).to_be_visible()
    expect(admin.locator("[data-count=create]")).to_have_text("3")
    expect(admin.locator("[data-count=errors]")).to_have_text("0")
    admin.get_by_role("button", name="Apply these changes").click()
    expect(admin.get_by_role("heading", name="Import finished: printing.xlsx")).to_be_visible()

    admin.get_by_role("link", name="Check the coverage report").click()
    admin.wait_for_url("**/masters/coverage")
    admin.get_by_label("Group").select_option(label="IT")
    admin.get_by_role("button", name="Show").click()
    admin.wait_for_url("**/masters/coverage?group=*")
    gap = admin.get_by_role("row").filter(has_text="Plotter")
    expect(gap).to_contain_text("No mapping")
    expect(admin.get_by_role("row").filter(has_text="Toner")).to_have_count(0)  # mapped
    # A staffed team: a route to a team with nobody in it would still be a gap.
    gap.get_by_label("Team for Printing / Plotter").select_option(label="IT Service Desk")
    gap.get_by_role("button", name="Add mapping").click()
    # The row becomes the confirmation; a live region, not the row, announces it.
    expect(admin.locator("tr.gap-closed").filter(has_text="Plotter")).to_contain_text(
        "Now routed to IT Service Desk"
    )
    # …with the report's new counts, which the summary above the tables shows too.
    expect(admin.get_by_role("status").filter(has_text="Plotter")).to_have_text(
        re.compile(
            r"^Printing / Plotter: now routed to IT Service Desk\. \d+ gaps? left, \d+% covered\.$"
        )
    )
    admin.reload()
    expect(admin.get_by_role("row").filter(has_text="Plotter")).to_have_count(0)

    employee = new_page()
    login(employee, "employee@example.com")
    raise_ticket(
        employee, title="Plotter prints stripes", group="IT", category="Printing",
        subcategory="Plotter",
    )  # fmt: skip
    assert fact(employee, "Team") == "IT Service Desk"
    assert fact(employee, "Classification") == "IT / Printing / Plotter"
    expect(history(employee).filter(has_text="routed it to IT Service Desk")).to_have_count(1)


def test_lead_reassigns_within_the_team_and_moves_a_ticket_to_another_team(new_page):
    employee = new_page()
    login(employee, "employee@example.com")
    reassigned = raise_ticket(
        employee, title="Laptop battery swells", group="IT", category="Hardware",
        subcategory="Laptop",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    moved = raise_ticket(
        employee, title="Cannot reach the build server", group="IT", category="Hardware",
        subcategory="Desktop",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip

    lead = new_page()
    login(lead, "lead@example.com")
    lead.goto(f"/tickets/{reassigned}")
    assert fact(lead, "Team") == "IT Service Desk"
    before = fact(lead, "Assignee")
    after = "Avery Agent" if before != "Avery Agent" else "Alex Agent"
    lead.get_by_label("Assign to").select_option(label=after)
    lead.get_by_role("button", name="Assign", exact=True).click()
    expect(lead.get_by_role("status")).to_contain_text(f"{reassigned} reassigned.")
    assert fact(lead, "Assignee") == after
    expect(
        history(lead).filter(has_text=f"Lee Lead assigned it to {after} (was {before})")
    ).to_have_count(1)

    lead.goto(f"/tickets/{moved}")
    lead.get_by_label("Move to team").select_option(label="IT Network & Security")
    lead.get_by_label("Why").fill("Needs a firewall change, not hardware")
    lead.get_by_role("button", name="Move", exact=True).click()

    # The requester and the group's SPOC still see the ticket: its page shows who moved
    # it, from where to where, and why.
    for person, page in (("employee", employee), ("spoc", new_page())):
        if person == "spoc":
            login(page, "spoc@example.com")
        page.goto(f"/tickets/{moved}")
        assert fact(page, "Team") == "IT Network & Security"
        expect(
            history(page).filter(
                has_text=re.compile(
                    r"Lee Lead\s+moved it from IT Service Desk to IT Network & Security"
                    r"\s+— Needs a firewall change, not hardware"
                )
            )
        ).to_have_count(1)


def test_lead_can_say_why_when_reassigning_within_the_team(new_page):
    employee = new_page()
    login(employee, "employee@example.com")
    number = raise_ticket(
        employee, title="Keyboard missing keys", group="IT", category="Hardware",
        subcategory="Peripherals",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    lead = new_page()
    login(lead, "lead@example.com")
    lead.goto(f"/tickets/{number}")
    assign = lead.locator("form").filter(has=lead.get_by_role("button", name="Assign", exact=True))
    expect(assign.get_by_label(re.compile("Why|Reason|Note"))).to_have_count(1)


def test_lead_who_moves_a_ticket_out_of_their_team_is_told_it_moved(new_page):
    employee = new_page()
    login(employee, "employee@example.com")
    number = raise_ticket(
        employee, title="Monitor cable frayed", group="IT", category="Hardware",
        subcategory="Monitor",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    lead = new_page()
    login(lead, "lead@example.com")
    lead.goto(f"/tickets/{number}")
    lead.get_by_label("Move to team").select_option(label="IT Applications")
    lead.get_by_label("Why").fill("Belongs with the applications team")
    with lead.expect_navigation() as navigation:
        lead.get_by_role("button", name="Move", exact=True).click()
    assert navigation.value.status == 200
    # The page's message (the list also has its own, empty, results summary region).
    expect(lead.locator(".messages")).to_contain_text(f"{number} moved to IT Applications.")


def _table(section) -> list[list[str]]:
    """A chart's data table as rows of cell texts, header first."""
    return section.locator("table").evaluate(
        "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


def _charts(page) -> list[str]:
    return [id.removeprefix("chart-") for id in page.locator("section.chart").evaluate_all(
        "sections => sections.map(s => s.id)"
    )]  # fmt: skip


def test_spoc_analytics_csv_downloads_match_the_tables_on_the_page(new_page):
    spoc = new_page()
    login(spoc, "spoc@example.com")
    spoc.goto("/analytics?period=90")
    keys = _charts(spoc)
    assert {"trend", "status", "group", "team"} <= set(keys)
    for key in keys:
        section = spoc.locator(f"#chart-{key}")
        # The documented download (docs/analytics.md), with the page's session.
        response = spoc.request.get(f"/analytics/{key}.csv?period=90")
        assert response.ok, (key, response.status)
        assert response.headers["content-type"].startswith("text/csv")
        downloaded = list(csv.reader(response.text().splitlines()))
        assert downloaded == _table(section), key


def test_analytics_csv_link_downloads_the_charts_csv(new_page):
    spoc = new_page()
    login(spoc, "spoc@example.com")
    spoc.goto("/analytics?period=90")
    section = spoc.locator("#chart-group")
    with spoc.expect_download() as download:
        section.get_by_role("link", name="CSV").click()
    assert download.value.failure() is None
    with open(download.value.path(), newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == _table(section)


def test_spoc_analytics_group_breakdown_shows_only_their_groups(new_page):
    spoc = new_page()
    login(spoc, "spoc@example.com")
    spoc.goto("/analytics?period=90")
    rows = _table(spoc.locator("#chart-group"))[1:]
    assert rows, "the SPOC's group has tickets in the period"
    assert {label for label, *_ in rows} == {"IT"}
