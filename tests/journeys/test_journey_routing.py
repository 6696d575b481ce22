"""A ticket in a team with nobody to take it still reaches a person who can act: the lead,
then (the lead gone) the group's SPOC, then (the SPOC gone) the admin on triage duty.
Each step is in the ticket's history with its reason, each person is told why by email,
and the admin dashboard counts what waits with nobody able to act.
"""

import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.journeys.steps import fact, history, login, raise_ticket

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]


def _workbook(path):
    """A group with Sam Spoc as SPOC whose one category goes to a new, empty team."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(["Business Unit Group", "Category", "Subcategory", "Team", "SPOC emails"])
    sheet.append(["Estates Journey", "", "", "", "spoc@example.com"])
    sheet.append(["Estates Journey", "Bike shed", "", "Bike Shed Desk", ""])
    workbook.save(path)


def _told(page, email: str, text: str) -> None:
    """`email` signs in and finds `text` among their notifications. (The email copy is read
    on a real SMTP server by portal/tickets/tests/test_routing_chain.py; here the worker is
    still working off the demo's backlog, so the in-app line is the prompt signal.)"""
    login(page, email)
    page.goto("/notifications")
    expect(page.get_by_role("button", name=text)).to_be_visible()


def test_a_ticket_in_a_memberless_team_reaches_the_lead_then_the_spoc_then_triage(
    new_page, tmp_path
):
    path = tmp_path / "estates.xlsx"
    _workbook(path)
    admin = new_page()
    login(admin, "admin@example.com")
    admin.goto("/masters/import")
    admin.get_by_label("Workbook (.xlsx)").set_input_files(path)
    admin.get_by_role("button", name="Preview").click()
    admin.get_by_role("button", name="Apply these changes").click()
    expect(admin.get_by_role("heading", name="Import finished: estates.xlsx")).to_be_visible()

    # The team has nobody; its lead joins (a team of one lead: "memberless").
    admin.goto("/teams?q=Bike")
    admin.get_by_role("link", name="Bike Shed Desk", exact=True).click()
    admin.get_by_label("Person's email").fill("lead@example.com")
    admin.get_by_label("Role").select_option(label="Lead")
    admin.get_by_role("button", name="Add to Bike Shed Desk").click()
    expect(admin.get_by_role("table").filter(has_text="lead@example.com")).to_be_visible()
    team_url = admin.url

    # 1. The lead: assigned, and told why.
    employee = new_page()
    login(employee, "employee@example.com")
    number = raise_ticket(
        employee,
        title="Bike shed lock is broken",
        group="Estates Journey",
        category="Bike shed",
    )
    assert fact(employee, "Assignee") == "Lee Lead"
    expect(history(employee).filter(has_text="assigned it to Lee Lead")).to_contain_text(
        "Bike Shed Desk has no active members besides its lead; assigned to the lead Lee Lead."
    )
    _told(new_page(), "lead@example.com", f"{number} is assigned to you: Bike shed lock is broken")

    # 2. The lead leaves: the ticket waits, and the SPOC is told why.
    admin.goto(team_url)
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Remove lead@example.com").click()
    expect(admin.locator("ul.messages")).to_contain_text(
        "This leaves a gap: Bike Shed Desk has no active members."
    )
    ticket_url = f"/tickets/{number}"
    admin.goto(ticket_url)
    expect(history(admin).filter(has_text="left it waiting for Sam Spoc")).to_contain_text(
        "Lee Lead left Bike Shed Desk. Bike Shed Desk has no active members; waiting for the "
        "SPOC of Estates Journey (Sam Spoc), who was told."
    )
    _told(
        new_page(),
        "spoc@example.com",
        f"{number} is waiting for you (Bike Shed Desk has no active members): "
        "Bike shed lock is broken",
    )

    # 3. The SPOC is removed from the group: the admin on triage duty (Ada) is told.
    admin.goto("/masters/groups?q=Estates Journey")
    admin.get_by_role("link", name="Estates Journey", exact=True).click()
    admin.get_by_label("SPOC emails").fill("")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("ul.messages")).to_contain_text(
        "This leaves a gap: Estates Journey has no SPOC."
    )
    admin.goto(ticket_url)
    expect(history(admin).filter(has_text="left it waiting for Ada Admin")).to_contain_text(
        "Sam Spoc is no longer SPOC of Estates Journey. Bike Shed Desk has no active members, "
        "and Estates Journey has no SPOC; waiting for the admin on triage duty (Ada Admin), "
        "who was told."
    )
    _told(
        new_page(),
        "admin@example.com",
        f"{number} is waiting for you (Bike Shed Desk has no active members, and Estates "
        "Journey has no SPOC): Bike shed lock is broken",
    )

    # The dashboard counts it among what waits with nobody able to act, and links to it.
    admin.goto("/dashboard")
    figure = admin.locator("[data-figure=org_nobody]")
    expect(figure).to_contain_text("Waiting with nobody able to act")
    figure.get_by_role("link").click()
    admin.wait_for_url(re.compile(r"/tickets\?view=waiting$"))
    expect(admin.get_by_role("link", name=re.compile(number))).to_be_visible()
