"""Layout at a laptop's 1280 px (issue 10) and on a 390 px phone (issue 18): the ticket
list, the ticket page, the new-ticket form, the dashboard and the header as people
complained about them. Measured in Chromium, not compared with pictures: each check names
what a person would see go wrong."""

import re

import pytest
from playwright.sync_api import expect

from portal.tickets import services
from portal.tickets.tests.sla_fixtures import always_open

always_open = always_open  # the fixture (a 24/7 calendar and a default policy), for this module

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def tickets(personas, org):
    return [
        services.ticket_create(
            requester=personas.requester,
            title=f"Docking station {i} needs a firmware update",
            description="Blank screens.",
            group=org.group_x,
            category=org.hardware,
            subcategory=org.laptop,
        )  # fmt: skip
        for i in range(3)
    ]


def test_ticket_list_at_1280_px_shows_whole_options_numbers_and_rows_near_the_top(
    page_for, personas, tickets
):
    page = page_for(personas.lead, viewport=LAPTOP)
    page.goto("/tickets")
    first_row = page.locator("table.tickets tbody tr").first.bounding_box()
    assert first_row["y"] + first_row["height"] < LAPTOP["height"], "no whole row on screen"
    page.get_by_text("More filters").click()  # the SLA list box is inside
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('.ticket-filters select[multiple]')]
            .filter(s => s.scrollHeight > s.clientHeight + 1).map(s => s.name)"""
    )
    assert clipped == [], "list boxes cut off their last options"
    wrapped = page.evaluate(
        """() => [...document.querySelectorAll('table.tickets tbody .cell-number a')]
            .filter(a => a.getClientRects().length > 1).map(a => a.textContent)"""
    )
    assert wrapped == [], "ticket numbers break across lines"
    sort = page.get_by_label("Sort")
    assert sort.evaluate("s => s.scrollWidth <= s.clientWidth + 1"), "sort choice cut off"
    bar = page.locator(".bulk-actions").bounding_box()
    line = page.locator(".bulk-actions select").first.bounding_box()["height"]
    assert bar["height"] < 2 * line + 16, f"bulk actions take {bar['height']} px: more than a bar"


def test_admin_header_fits_one_line_at_1280_px(page_for, personas):
    page = page_for(personas.admin, viewport=LAPTOP)
    page.goto("/dashboard")
    nav = page.get_by_role("navigation", name="Main").bounding_box()
    account = page.locator(".account").bounding_box()
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines"
    assert abs(nav["y"] - account["y"]) < nav["height"], "the account links drop below the nav"


def test_the_administration_menu_opens_by_keyboard_and_closes_on_escape(page_for, personas):
    page = page_for(personas.admin, viewport=LAPTOP)
    page.goto("/dashboard")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_hidden()
    menu = nav.locator("summary", has_text="Administration")
    menu.focus()
    page.keyboard.press("Enter")
    for name in [
        "Master data",
        "Service levels",
        "Users",
        "Email log",
        "Webhooks",
        "Mailboxes",
        "Retention",
    ]:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Users")).to_be_hidden()
    expect(menu).to_be_focused()
    # Opened by pointer, it follows a link, and the page it lands on marks the menu current.
    menu.click()
    nav.get_by_role("link", name="Service levels").click()
    expect(page).to_have_url(re.compile(r"/sla$"))
    expect(page.locator("summary.nav-menu-current")).to_have_text("Administration")


def test_people_who_are_not_admins_have_no_administration_menu(page_for, personas):
    page = page_for(personas.lead, viewport=LAPTOP)
    page.goto("/dashboard")
    expect(page.locator("summary", has_text="Administration")).to_have_count(0)


# --- A 390 px phone (issue 18) -------------------------------------------------------------

PHONE = {"width": 390, "height": 844}

# Elements reaching past the right edge, except inside something clipped to nothing (the
# visually hidden labels and table headers that only screen readers read).
OVERFLOWING = """(width) => {
  const clipped = e => { for (let a = e; a; a = a.parentElement) {
    if (getComputedStyle(a).clip !== 'auto') return true; } return false; };
  return [...document.querySelectorAll('main *')]
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1
                 && !clipped(e))
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
              + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def _fits(page, width=PHONE["width"]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page scrolls sideways"
    assert page.evaluate(OVERFLOWING, width) == [], "something sticks out to the right"


@pytest.fixture
def busy_ticket(always_open, personas, org):
    """A ticket with SLA targets being worked, with a conversation long enough to push
    the facts and actions far down if they came after it."""
    ticket = services.ticket_create(
        requester=personas.requester, title="Docking station drops the external monitors",
        description="Blank screens. " * 40, group=org.group_x, category=org.hardware,
        subcategory=org.laptop,
    )  # fmt: skip
    for n in range(6):
        services.comment_add(
            actor=personas.agent if n % 2 else personas.requester,
            ticket=ticket,
            body="A long answer with details about what happened and what to try next. " * 6,
        )
    return ticket


def test_phone_ticket_page_shows_the_facts_first_and_reaches_the_actions_from_the_top(
    page_for, personas, busy_ticket
):
    page = page_for(personas.lead, viewport=PHONE)
    page.goto(busy_ticket.get_absolute_url())
    _fits(page)
    facts = page.locator("dl.facts")
    for term in ("Status", "Assignee", "Resolution due"):
        value = facts.locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")
        box = value.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{term} is below the first screen"
    # The actions are one tap away from the top, and the tap lands on them.
    jump = page.get_by_role("link", name="Actions")
    assert jump.bounding_box()["y"] < PHONE["height"]
    jump.click()
    heading = page.get_by_role("heading", name="Actions").bounding_box()
    assert 0 <= heading["y"] < PHONE["height"], "the actions are not on screen after the jump"


def test_phone_ticket_list_rows_are_cards_without_sideways_scrolling(page_for, personas, tickets):
    page = page_for(personas.lead, viewport=PHONE)
    page.goto("/tickets")
    _fits(page)
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), "the list scrolls sideways"
    rows = page.locator("table.tickets tbody tr")
    assert rows.count() == 3
    first = rows.first
    box = first.bounding_box()
    assert box["width"] <= PHONE["width"]
    # A card shows the title as a link and says what each other value is.
    title = first.get_by_role("link", name=tickets[-1].title)
    assert title.is_visible()
    names = first.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert {'"Assignee"', '"Team"', '"SLA due"'} <= set(names)
    # Readable: the title is on one or two lines, not a letter per line.
    assert title.bounding_box()["width"] > 150


def test_phone_new_ticket_form_fits(page_for, personas, org):
    page = page_for(personas.requester, viewport=PHONE)
    page.goto("/tickets/new")
    _fits(page)
    for label in ("Title", "Business unit group", "Category", "Subcategory"):
        field = page.get_by_label(label, exact=True).bounding_box()
        assert field["x"] >= 0 and field["x"] + field["width"] <= PHONE["width"], label
    submit = page.get_by_role("button", name="Raise ticket").bounding_box()
    assert submit["x"] + submit["width"] <= PHONE["width"]


@pytest.mark.parametrize("persona", ["requester", "lead", "spoc", "admin"])
def test_phone_dashboard_fits(persona, page_for, personas, tickets):
    page = page_for(getattr(personas, persona), viewport=PHONE)
    page.goto("/dashboard")
    _fits(page)
