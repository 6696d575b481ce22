"""In Chromium: a requester raises a ticket, an agent takes it, comments and resolves it,
and the requester sees it resolved."""

import re

import pytest
from playwright.sync_api import expect

from portal.tickets.models import Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_requester_raises_agent_takes_comments_resolves_and_requester_sees_it(
    page_for, personas, org, raise_ticket
):
    # The agent already holds an open ticket, so routing gives the new one to the lead
    # and the agent has something to take.
    busy = raise_ticket(title="Earlier ticket")
    assert busy.assignee == personas.agent

    requester = page_for(personas.requester)
    console_errors = []
    requester.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    requester.goto("/tickets/new")
    requester.get_by_label("Title", exact=True).fill("Laptop fan is loud")
    requester.get_by_label("Business unit group").select_option(label="Group X")
    # The catalog's htmx partial fills the categories for the chosen group.
    requester.get_by_label("Category", exact=True).select_option(label="Hardware")
    requester.get_by_label("Subcategory").select_option(label="Laptop")
    requester.get_by_label("Description").fill("It sounds like a *jet engine*.")
    requester.get_by_role("button", name="Raise ticket").click()
    requester.wait_for_url(re.compile(r"/tickets/TKT-\d{6}$"))
    assert "Laptop fan is loud" in requester.get_by_role("heading", level=1).inner_text()
    assert requester.locator(".markdown em").inner_text() == "jet engine"
    ticket = Ticket.objects.get(title="Laptop fan is loud")
    assert ticket.assignee == personas.lead

    agent = page_for(personas.agent)
    agent.goto(f"/tickets/{ticket.number}")
    agent.get_by_role("button", name="Take it").click()
    agent.wait_for_load_state()
    assert "is yours" in agent.get_by_role("status").inner_text()
    agent.get_by_role("textbox", name="Comment").fill("Cleaned the fan; please check.")
    agent.get_by_role("button", name="Add comment").click()
    agent.wait_for_load_state()
    agent.get_by_label("Change status").select_option(label="Resolved")
    agent.get_by_role("button", name="Update status").click()
    agent.wait_for_load_state()
    assert "is now Resolved" in agent.get_by_role("status").inner_text()

    requester.reload()
    assert requester.locator(".page-head .status").inner_text() == "Resolved"
    assert "Cleaned the fan; please check." in requester.locator(".comments").inner_text()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.RESOLVED, personas.agent)
    # Nothing on these pages broke the Content-Security-Policy (no inline code or styles).

    assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_list_filters_swap_the_results_keep_the_state_in_the_url_and_go_back(
    page_for, personas, raise_ticket
):
    raise_ticket(title="Urgent one", priority="urgent")
    raise_ticket(title="Low one", priority="low")
    page = page_for(personas.agent)
    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto("/tickets")
    rows = page.locator("table.tickets tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Priority", exact=True).select_option("urgent")
    page.wait_for_url("**/tickets?*priority=urgent*")
    expect(rows).to_have_count(1)
    assert "Urgent one" in rows.first.inner_text()

    page.go_back()
    expect(rows).to_have_count(2)
    assert "priority" not in page.url

    # Classification filters: the category list follows the chosen group.
    page.get_by_text("More filters").click()
    page.get_by_label("Group", exact=True).select_option(label="Group X")
    page.get_by_label("Category", exact=True).select_option(label="Hardware")
    page.wait_for_url("**/tickets?*category=*")
    expect(rows).to_have_count(2)
    assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_a_filter_change_announces_a_summary_not_the_whole_results(
    page_for, personas, raise_ticket
):
    raise_ticket(title="Urgent one", priority="urgent")
    raise_ticket(title="Low one", priority="low")
    page = page_for(personas.agent)
    page.goto("/tickets")
    status = page.get_by_role("status").and_(page.locator("#ticket-results-status"))
    expect(status).to_have_text("")  # present and quiet until something changes
    results = page.locator("#ticket-results")
    expect(results).not_to_have_attribute("aria-live", re.compile(".*"))

    priority = page.get_by_label("Priority", exact=True)
    priority.focus()
    priority.select_option("urgent")
    expect(status).to_have_text("1 ticket shown.")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(priority).to_be_focused()  # the swap leaves the focus in the list box
    assert page.locator("#ticket-results #ticket-results-status").count() == 0

    page.get_by_label("Search").fill("nothing like it")
    page.keyboard.press("Enter")
    expect(status).to_have_text("No tickets match these filters.")

    # A 400 answer is swapped too (htmx would drop it): the error is shown and announced.
    page.get_by_text("More filters").click()
    page.get_by_label("Assignee").fill("not-an-email")
    page.keyboard.press("Tab")
    expect(status).to_have_text(re.compile(r"^Some filters are not valid\. Assignee: "))
    expect(results.locator(".form-errors")).to_contain_text("Assignee")
