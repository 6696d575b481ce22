"""The README's pictures: the main pages on the demo data, as `make run` shows them.

Every run opens the pages and takes the pictures; they are written to docs/screenshots/
only with UPDATE_SCREENSHOTS=1 (otherwise to a temporary folder), so a normal test run
never changes the working tree:

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/journeys -k screenshots

This module sorts before test_journeys.py, so the pictures show the demo data before the
journeys add to it. (docs/screenshots/analytics*.png belong to the analytics app's own
browser test, on its small test data; this one's analytics picture is analytics-demo.png.)
"""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.journeys.steps import login

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "portal-journey-screenshots"
)
SIZE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled", caret="hide")


# In progress in the IT Service Desk's queue, with comments (the demo's seed is fixed).
WORKED_TICKET = "TKT-000204"


def test_screenshots_of_the_main_pages_on_the_demo_data(new_page):
    lead = new_page(viewport=SIZE)
    login(lead, "lead@example.com")
    expect(lead.get_by_role("heading", name="Welcome, Lee")).to_be_visible()
    shoot(lead, "dashboard")

    lead.goto("/tickets?view=team")
    expect(lead.get_by_role("table", name="Tickets").get_by_role("row")).not_to_have_count(1)
    shoot(lead, "tickets")

    # A ticket being worked, with a conversation (the demo tickets come from a fixed seed).
    lead.goto(f"/tickets/{WORKED_TICKET}")
    expect(lead.locator(".comment")).not_to_have_count(0)
    shoot(lead, "ticket")

    dark = new_page(viewport=SIZE, color_scheme="dark")
    login(dark, "lead@example.com")
    shoot(dark, "dashboard-dark")

    employee = new_page(viewport=SIZE)
    login(employee, "employee@example.com")
    employee.goto("/tickets/new")
    employee.get_by_label("Title", exact=True).fill("Laptop will not charge")
    employee.get_by_label("Business unit group").select_option(label="IT")
    employee.get_by_label("Category", exact=True).select_option(label="Hardware")
    employee.get_by_label("Subcategory").select_option(label="Laptop")
    employee.get_by_label("Description").fill(
        "Since this morning the charging light stays off.\n\n**Tried:** another socket."
    )
    employee.get_by_label("Title", exact=True).focus()
    shoot(employee, "new-ticket")

    admin = new_page(viewport=SIZE)
    login(admin, "admin@example.com")
    admin.goto("/analytics?period=90")
    expect(admin.locator("#chart-trend")).to_be_visible()
    # The charts, rather than a screenful of filters (the top is in analytics.png).
    admin.locator("#chart-trend").evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 24)"
    )
    shoot(admin, "analytics-demo")

    admin.goto("/masters")
    expect(admin.get_by_role("heading", name="Master data")).to_be_visible()
    shoot(admin, "masters")


def test_phone_screenshots_of_the_main_pages_on_the_demo_data(new_page):
    """The same pages on a 390 px phone: the dashboard, the list as cards, a ticket with
    its facts first, and the new-ticket form."""
    lead = new_page(viewport=PHONE)
    login(lead, "lead@example.com")
    expect(lead.get_by_role("heading", name="Welcome, Lee")).to_be_visible()
    shoot(lead, "phone-dashboard")

    lead.goto("/tickets?view=team")
    expect(lead.locator("table.tickets tbody tr")).not_to_have_count(0)
    # The cards, below the filters.
    lead.locator("#ticket-results").evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 8)"
    )
    shoot(lead, "phone-tickets")

    lead.goto(f"/tickets/{WORKED_TICKET}")
    expect(lead.get_by_role("link", name="Actions")).to_be_in_viewport()
    shoot(lead, "phone-ticket")

    employee = new_page(viewport=PHONE)
    login(employee, "employee@example.com")
    employee.goto("/tickets/new")
    employee.get_by_label("Title", exact=True).fill("VPN drops every few minutes")
    employee.get_by_label("Business unit group").select_option(label="IT")
    employee.get_by_label("Category", exact=True).select_option(label="Network")
    employee.get_by_label("Subcategory").select_option(label="VPN")
    employee.get_by_label("Title", exact=True).focus()
    shoot(employee, "phone-new-ticket")
