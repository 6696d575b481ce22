"""In Chromium: an employee starts a ticket, a suggested article appears as they type,
they open it and leave without raising the ticket; analytics counts one deflection."""

import re

import pytest
from playwright.sync_api import expect

from portal.kb import services
from portal.kb.models import Deflection
from portal.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _publish_article(personas, org) -> None:
    article = services.article_create(
        actor=personas.agent,
        title="Printer shows paper jam",
        body="Open **tray 2**, pull the sheet out gently and close the tray.",
        group=org.group_x,
        category=org.hardware,
        owner_team=org.team_a,
    )
    services.article_publish(actor=personas.agent, article=article)


def _start_a_ticket_about_a_paper_jam(employee) -> None:
    employee.goto("/tickets/new")
    employee.get_by_label("Title", exact=True).press_sequentially("paper jam in the printer")
    employee.get_by_label("Business unit group").select_option(label="Group X")
    employee.get_by_label("Category", exact=True).select_option(label="Hardware")


def test_employee_opens_a_suggested_article_and_leaves_and_analytics_counts_it(
    page_for, personas, org
):
    _publish_article(personas, org)
    employee = page_for(personas.requester)
    console_errors = []
    employee.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    _start_a_ticket_about_a_paper_jam(employee)
    suggestion = employee.get_by_role("link", name="Printer shows paper jam")
    expect(suggestion).to_be_visible(timeout=15_000)  # several refreshes under load
    with employee.context.expect_page() as opened:
        suggestion.click()  # a new tab: the form stays as it was
    reading = opened.value
    reading.wait_for_load_state()
    expect(reading.get_by_role("heading", level=1)).to_have_text("Printer shows paper jam")
    expect(reading.locator(".markdown strong")).to_have_text("tray 2")
    reading.get_by_role("button", name="Yes").click()
    expect(reading.locator("#kb-feedback")).to_contain_text("Thank you")
    # They leave: both tabs closed, no ticket raised.
    reading.close()
    employee.close()
    assert not Ticket.objects.exists()
    assert Deflection.objects.filter(raised_ticket=False).count() == 1

    analyst = page_for(personas.spoc)
    analyst.goto("/analytics")
    analyst.get_by_role("link", name="Requests the knowledge base answered").click()
    analyst.wait_for_url(re.compile(r"/analytics/knowledge-base$"))
    expect(analyst.locator('[data-figure="deflections"] .figure-count')).to_have_text("1")
    rows = analyst.get_by_test_id("top-articles")
    expect(rows).to_contain_text("Printer shows paper jam")
    expect(rows).to_contain_text("1 / 0")  # one "yes", no "no"
    assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_employee_opens_a_suggestion_and_raises_the_ticket_after_all_so_nothing_is_counted(
    page_for, personas, org
):
    _publish_article(personas, org)
    employee = page_for(personas.requester)
    _start_a_ticket_about_a_paper_jam(employee)
    suggestion = employee.get_by_role("link", name="Printer shows paper jam")
    expect(suggestion).to_be_visible(timeout=15_000)  # several refreshes under load
    with employee.context.expect_page() as opened:
        suggestion.click()
    opened.value.wait_for_load_state()
    opened.value.close()
    assert Deflection.objects.filter(raised_ticket=False).count() == 1
    # The article did not answer it: the same form raises the ticket.
    employee.get_by_label("Description").fill("The jam is deeper than tray 2.")
    employee.get_by_role("button", name="Raise ticket").click()
    employee.wait_for_url(re.compile(r"/tickets/TKT-\d+$"))
    assert Ticket.objects.count() == 1
    assert list(Deflection.objects.values_list("raised_ticket", flat=True)) == [True]
