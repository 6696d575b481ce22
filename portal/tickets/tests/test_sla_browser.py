"""In Chromium: the ticket page shows both SLA due times with their badges, and the list
shows the due badge, under the strict CSP (no console errors)."""

import pytest
from playwright.sync_api import expect

from portal.tickets.tests.sla_fixtures import always_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
always_open = always_open  # the fixture, imported for this module


def test_the_due_badge_shows_on_the_ticket_page_and_in_the_list(
    page_for, personas, always_open, raise_ticket
):
    ticket = raise_ticket(priority="urgent")  # 24/7 calendar: due in 1 h and 4 h
    page = page_for(personas.requester)
    console_errors = []
    # CSP refusals show up as console errors (a missing favicon is not ours to judge).
    page.on("console", lambda m: "Refused" in m.text and console_errors.append(m.text))

    page.goto(ticket.get_absolute_url())
    response = page.locator('[data-sla-target="response"]')
    expect(response.locator(".sla")).to_have_text("On track")
    expect(response.locator("time")).to_have_attribute(
        "datetime", ticket.sla_response_due_at.isoformat()
    )
    expect(page.locator('[data-sla-target="resolution"] .sla')).to_have_text("On track")
    expect(page.get_by_text("Standard", exact=True)).to_be_visible()
    # The badge is styled by sla.css (loaded, not inline): a border colour is applied.
    border = page.locator('[data-sla-target="response"] .sla').evaluate(
        "el => getComputedStyle(el).borderTopStyle"
    )
    assert border == "solid"

    page.goto("/tickets?sort=sla_due")
    row = page.get_by_role("row").filter(has_text=ticket.number)
    expect(row.locator(".sla")).to_have_text("On track")
    assert console_errors == []
