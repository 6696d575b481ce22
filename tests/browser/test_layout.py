"""Layout at a laptop's 1280 px: the ticket list and the header as people complained about
them (issue 10). Measured in Chromium, not compared with pictures: each check names what
a person would see go wrong."""

import pytest

from portal.tickets import services

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
        """() => [...document.querySelectorAll('table.tickets tbody a')]
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
