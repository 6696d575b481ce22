"""Journeys 1–4 and 6 by keyboard alone (issue 10): Tab, Shift+Tab, Enter, Space, arrow
keys and typing; no click or fill on an element. Every focus stop shows a visible focus
indicator (tests/journeys/keyboard.py checks it at each press), skip links lead past the
navigation, and htmx swaps leave the focus somewhere useful.

The mouse versions in test_journeys.py and test_journeys_people.py check the emails and
every fact; these check that each interactive step can be done without a mouse.
"""

import csv
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.journeys.keyboard import (
    assert_focus_shown,
    choose,
    focused,
    follow_nav,
    pick_file,
    press_and_load,
    raise_ticket,
    sign_in,
    skip_to_content,
    tab_to,
)
from tests.journeys.steps import HARDWARE_ANSWERS, fact, history
from tests.journeys.steps import raise_ticket as raise_ticket_with_mouse
from tests.journeys.test_journeys_people import DEMO_EMAILS, PNG

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]


def set_status(page, label: str) -> None:
    """From the top of a ticket page: the status list, the option, then the button."""
    skip_to_content(page)
    tab_to(page, "Change status")
    choose(page, label)
    tab_to(page, "Update status")
    press_and_load(page)


def add_comment(page, text: str, *, internal: bool = False) -> None:
    skip_to_content(page)
    tab_to(page, "Comment")
    page.keyboard.type(text)
    if internal:
        tab_to(page, "Internal (only people working the ticket see it)")
        page.keyboard.press("Space")
        expect(
            page.get_by_label("Internal (only people working the ticket see it)")
        ).to_be_checked()
    tab_to(page, "Add comment")
    press_and_load(page)
    expect(page.get_by_text(text)).to_be_visible()


def test_keyboard_only_sign_in_and_raise_a_ticket(new_page):
    page = new_page()
    sign_in(page, "employee2@example.com")
    number = raise_ticket(
        page, title="Please install the drawing viewer", group="IT",
        category="Software", subcategory="Installation",
        description="The site plans open only in the drawing viewer, which I do not have.",
    )  # fmt: skip
    assert number.startswith("TKT-")
    assert fact(page, "Classification") == "IT / Software / Installation"
    assert fact(page, "Team") == "IT Service Desk"


def test_keyboard_only_a_ticket_from_raising_to_closing(new_page, tmp_path):
    """Journey 1: raise with a file, the agent answers in public and in private and
    resolves, the requester reopens, the agent closes."""
    screenshot = tmp_path / "boot-error.png"
    screenshot.write_bytes(PNG)
    employee = new_page()
    sign_in(employee, "employee@example.com")
    number = raise_ticket(
        employee, title="Sign-in shows error 0x50 every morning", group="IT",
        category="Accounts & Access", description="A photo of the screen is attached.",
        attach=screenshot,
    )  # fmt: skip
    expect(employee.get_by_role("link", name="boot-error.png")).to_be_visible()
    assignee = DEMO_EMAILS[fact(employee, "Assignee")]

    # The agent goes from the bell to the notification to the ticket.
    agent = new_page()
    sign_in(agent, assignee)
    tab_to(agent, re.compile(r"^Notifications: \d+ unread$"))
    press_and_load(agent)
    assert agent.url.endswith("/notifications")
    skip_to_content(agent)
    tab_to(agent, re.compile(f"{number} is assigned to you"))
    press_and_load(agent)
    agent.wait_for_url(f"**/tickets/{number}")

    add_comment(agent, "Please keep it plugged in overnight.")
    add_comment(agent, "Beep code points to the memory module.", internal=True)
    set_status(agent, "Resolved")
    expect(agent.locator(".ticket-facts dl.facts")).to_contain_text("Resolved")
    # Shift+Tab walks the actions back in order: the button, the note, the list.
    skip_to_content(agent)
    tab_to(agent, "Update status")
    assert tab_to(agent, "Change status", backwards=True) == ["Note (optional)", "Change status"]

    employee.goto(f"/tickets/{number}")
    expect(employee.get_by_text("Please keep it plugged in overnight.")).to_be_visible()
    expect(employee.get_by_text("Beep code points to the memory module.")).to_have_count(0)
    set_status(employee, "Reopen: it is not fixed")
    expect(employee.locator(".ticket-facts dl.facts")).to_contain_text("In progress")

    agent.goto(f"/tickets/{number}")
    set_status(agent, "Resolved")
    set_status(agent, "Closed")
    expect(agent.locator(".ticket-facts dl.facts")).to_contain_text("Closed")


def test_keyboard_only_admin_imports_a_workbook_and_closes_a_coverage_gap(new_page, tmp_path):
    """Journey 2: import, the coverage report, one-click mapping; the ticket then routes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(["Business Unit Group", "Category", "Subcategory", "Team", "Default priority"])
    sheet.append(["IT", "Scanning", "", "", ""])
    sheet.append(["IT", "Scanning", "Flatbed", "IT Service Desk", "Low"])
    sheet.append(["IT", "Scanning", "Film scanner", "", ""])
    path = tmp_path / "scanning.xlsx"
    workbook.save(path)

    admin = new_page()
    sign_in(admin, "admin@example.com")
    follow_nav(admin, "Master data")
    skip_to_content(admin)
    tab_to(admin, "Import", within="nav.subnav")
    press_and_load(admin)
    admin.wait_for_url("**/masters/import")
    skip_to_content(admin)
    tab_to(admin, "Workbook (.xlsx)")
    pick_file(admin, path)
    tab_to(admin, "Preview")
    press_and_load(admin)
    expect(admin.get_by_role("heading", name="Import preview: scanning.xlsx")).to_be_visible()
    skip_to_content(admin)
    tab_to(admin, "Apply these changes")
    press_and_load(admin)
    expect(admin.get_by_role("heading", name="Import finished: scanning.xlsx")).to_be_visible()
    skip_to_content(admin)
    tab_to(admin, "Check the coverage report")
    press_and_load(admin)
    admin.wait_for_url("**/masters/coverage")

    # Arrow keys move through the group list without reloading the page at each press
    # (only a mouse pick submits at once); the Show button applies it.
    skip_to_content(admin)
    tab_to(admin, "Group")
    choose(admin, "IT")
    assert admin.url.endswith("/masters/coverage")
    tab_to(admin, "Show")
    press_and_load(admin)
    admin.wait_for_url("**/masters/coverage?group=*")

    skip_to_content(admin)
    tab_to(admin, "Team for Scanning / Film scanner")
    choose(admin, "IT Applications")
    tab_to(admin, "Add mapping")
    admin.keyboard.press("Enter")
    # The row turns into the confirmation and keeps the focus; a live region (not the
    # row) tells a screen reader, with the group's new counts, which the summary shows too.
    said = re.compile(
        r"^Scanning / Film scanner: now routed to IT Applications\. "
        r"(\d+) gaps? left, (\d+)% covered\.$"
    )
    status = admin.locator("#coverage-status")
    expect(status).to_have_text(said)
    gaps, percent = said.match(status.inner_text()).groups()
    expect(admin.locator("#coverage-summary")).to_contain_text(
        re.compile(rf"\b{gaps} gaps? · .* · {percent}% covered")
    )
    expect(admin.locator("tr.gap-closed").filter(has_text="Film scanner")).to_have_count(1)
    expect(admin.locator("tr[role]")).to_have_count(0)
    now = assert_focus_shown(admin)
    assert now["name"].startswith("✓ Now routed to IT Applications"), now
    admin.keyboard.press("Tab")  # on to whatever follows the row, not back to the top
    assert focused(admin)["name"] != "Skip to content"

    employee = new_page()
    sign_in(employee, "employee2@example.com")
    raise_ticket(
        employee, title="Film scanner streaks", group="IT", category="Scanning",
        subcategory="Film scanner",
    )  # fmt: skip
    assert fact(employee, "Team") == "IT Applications"


def test_keyboard_only_lead_finds_reassigns_and_moves_tickets(new_page):
    """Journey 3: the lead finds a ticket in the list, reassigns it within the team with a
    reason, and moves another to another team; the timeline shows both."""
    employee = new_page()
    sign_in(employee, "employee@example.com")
    reassigned = raise_ticket_with_mouse(
        employee, title="Headset crackles on calls", group="IT", category="Hardware",
        subcategory="Peripherals",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    moved = raise_ticket_with_mouse(
        employee, title="VPN drops every hour", group="IT", category="Hardware",
        subcategory="Desktop",
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip

    lead = new_page()
    sign_in(lead, "lead@example.com")
    follow_nav(lead, "Tickets")
    skip_to_content(lead)
    tab_to(lead, "Search")
    lead.keyboard.type("Headset crackles")
    # Enter fires `change` and submits: one request, not a second one whose swap would
    # replace the results under the focus as Tab moves into them (portal.js).
    requests = []
    lead.on("request", lambda r: "/tickets?" in r.url and requests.append(r.url))
    lead.keyboard.press("Enter")  # htmx swaps the results; the focus stays in the box
    expect(lead.get_by_role("table", name="Tickets")).to_contain_text(reassigned)
    expect(lead).to_have_url(re.compile(r"q=Headset"))
    assert focused(lead)["name"] == "Search"
    tab_to(lead, reassigned)
    assert len(requests) == 1, requests
    press_and_load(lead)
    lead.wait_for_url(f"**/tickets/{reassigned}")

    before = fact(lead, "Assignee")
    after = "Avery Agent" if before != "Avery Agent" else "Alex Agent"
    skip_to_content(lead)
    tab_to(lead, "Assign to")
    choose(lead, after)
    tab_to(lead, "Reason (optional)")
    lead.keyboard.type("Avery knows headsets")
    tab_to(lead, "Assign")
    press_and_load(lead)
    expect(lead.get_by_role("status")).to_contain_text(f"{reassigned} reassigned.")
    expect(
        history(lead).filter(has_text=f"Lee Lead assigned it to {after} (was {before})")
    ).to_have_count(1)

    lead.goto(f"/tickets/{moved}")
    skip_to_content(lead)
    tab_to(lead, "Move to team")
    choose(lead, "IT Network & Security")
    tab_to(lead, "Why")
    lead.keyboard.type("A firewall rule, not the desktop")
    tab_to(lead, "Move")
    press_and_load(lead)

    employee.goto(f"/tickets/{moved}")
    assert fact(employee, "Team") == "IT Network & Security"
    expect(
        history(employee).filter(
            has_text=re.compile(
                r"Lee Lead\s+moved it from IT Service Desk to IT Network & Security"
                r"\s+— A firewall rule, not the desktop"
            )
        )
    ).to_have_count(1)


def test_keyboard_only_ticket_list_filters_pages_and_bulk_actions(new_page):
    """The list's controls: a multi-select filter with the arrow keys, the next page (an
    htmx swap that must not drop the focus to the top), a ticket ticked with Space and
    the bulk bar's controls in order."""
    lead = new_page()
    sign_in(lead, "lead@example.com")
    follow_nav(lead, "Tickets")
    skip_to_content(lead)
    tab_to(lead, "Status")
    lead.keyboard.press("ArrowDown")  # the first status, "Awaiting approval"
    expect(lead).to_have_url(re.compile(r"status=awaiting"))
    lead.keyboard.press("ArrowDown")  # the next one alone, "New"
    expect(lead).to_have_url(re.compile(r"status=new"))
    assert "status=awaiting" not in lead.url
    rows = lead.get_by_role("table", name="Tickets").locator("tbody tr")
    expect(rows.first.locator(".status")).to_have_text("New")
    assert focused(lead)["name"] == "Status"  # the swap left the focus where it was
    tab_to(lead, "Clear")
    press_and_load(lead)
    assert "status=" not in lead.url

    skip_to_content(lead)
    tab_to(lead, "Next page →")
    first_page = rows.first.inner_text()
    lead.keyboard.press("Enter")
    expect(lead).to_have_url(re.compile("cursor=|after="))
    expect(rows.first).not_to_have_text(first_page)
    # The link the focus was on is gone with the old results: the focus is on the new
    # results (visibly), and Tab goes on into them rather than restarting at the top.
    expect(lead.locator("#ticket-results")).to_be_focused()
    assert_focus_shown(lead)
    passed = tab_to(lead, re.compile(r"^Select TKT-\d+$"))
    assert "Skip to content" not in passed
    assert passed[:2] == ["Export CSV", "Action"], passed
    lead.keyboard.press("Space")
    assert lead.evaluate("() => document.activeElement.checked")


def test_keyboard_only_spoc_analytics_period_and_csv(new_page):
    """Journey 4: the SPOC picks the period, sees only their groups and downloads a
    chart's CSV, which matches the table on the page."""
    spoc = new_page()
    sign_in(spoc, "spoc@example.com")
    follow_nav(spoc, "Analytics")
    spoc.wait_for_url("**/analytics")
    skip_to_content(spoc)
    tab_to(spoc, "Period")
    choose(spoc, "Last 90 days")
    tab_to(spoc, "Show")
    press_and_load(spoc)
    spoc.wait_for_url("**/analytics?*period=90*")

    section = spoc.locator("#chart-group")
    table = section.locator("table").evaluate(
        "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    assert {label for label, *_ in table[1:]} == {"IT"}
    skip_to_content(spoc)
    # Its name says which chart (visually hidden after the visible "CSV").
    tab_to(spoc, "CSV of Created in the period, by business unit group", within="#chart-group")
    with spoc.expect_download() as download:
        spoc.keyboard.press("Enter")
    with open(download.value.path(), newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == table
