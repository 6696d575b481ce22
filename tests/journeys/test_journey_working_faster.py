"""Working faster, end to end in Chromium: an agent answers with a canned reply, merges a
duplicate into the ticket, resolves it, and the requester rates the resolution."""

import re

import pytest
from playwright.sync_api import expect

from tests.journeys.steps import HARDWARE_ANSWERS, history, login, raise_ticket

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]


def test_an_agent_answers_with_a_canned_reply_merges_a_duplicate_and_the_requester_rates(
    new_page,
):
    employee = new_page()
    login(employee, "employee@example.com")
    original = raise_ticket(
        employee, title="Docking station drops the screen", group="IT", category="Hardware",
        subcategory="Laptop", answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    duplicate = raise_ticket(
        employee, title="Screen goes black on the dock again", group="IT",
        category="Hardware", subcategory="Laptop", answers=HARDWARE_ANSWERS,
    )  # fmt: skip

    lead = new_page()
    login(lead, "lead@example.com")
    # A personal canned reply with placeholders.
    lead.goto("/replies/new")
    lead.get_by_label("Title").fill("Dock firmware")
    lead.get_by_label("Reply", exact=True).fill(
        "Hello {requester.first_name}, please update the dock firmware ({ticket.number})."
    )
    lead.get_by_label("Who can use it").select_option(label="Only me")
    lead.get_by_role("button", name="Save").click()
    expect(lead.get_by_role("status")).to_contain_text("Canned reply “Dock firmware” saved.")

    # It fills the comment box on the ticket, for this ticket and requester.
    lead.goto(f"/tickets/{original}")
    lead.get_by_text("Insert a canned reply").click()
    lead.get_by_label("Search canned replies").fill("Dock")
    lead.get_by_role("button", name="Dock firmware").click()
    box = lead.locator("#id_body")
    expect(box).to_have_value(re.compile(rf"please update the dock firmware \({original}\)"))
    lead.get_by_role("button", name="Add comment").click()
    expect(lead.locator(".comments")).to_contain_text(
        f"please update the dock firmware ({original})"
    )

    # The duplicate is merged into it, through the picker and the confirmation page.
    lead.goto(f"/tickets/{duplicate}")
    lead.get_by_text("Merge into another ticket").click()
    # Focusing the picker lists every open ticket the lead works; the typed number's answer
    # replaces that list, so the choice is made in the list that stays.
    with lead.expect_response(lambda answer: f"/merge-targets?q={original}" in answer.url):
        lead.get_by_label("Ticket number or words").fill(original)
    expect(lead.locator("#merge-results").get_by_role("radio")).to_have_count(1)
    lead.get_by_role("radio", name=re.compile(original)).check()
    lead.get_by_role("button", name="Merge…").click()
    expect(lead.get_by_role("heading", level=1)).to_have_text(f"Merge {duplicate} into {original}?")
    lead.get_by_role("button", name=f"Merge {duplicate} into {original}").click()
    lead.wait_for_url(f"**/tickets/{original}")
    expect(lead.get_by_role("region", name="Related tickets")).to_contain_text(duplicate)
    expect(history(lead).filter(has_text=f"merged {duplicate} into this ticket")).to_have_count(1)

    lead.get_by_label("Change status").select_option(label="Resolved")
    lead.get_by_role("button", name="Update status").click()
    expect(lead.get_by_role("status")).to_contain_text(f"{original} is now Resolved.")

    # The requester sees where the duplicate went, then rates the resolution.
    employee.goto(f"/tickets/{duplicate}")
    expect(employee.locator("#merged-into")).to_contain_text(f"merged into {original}")
    employee.get_by_role("link", name=original).click()
    employee.wait_for_url(f"**/tickets/{original}")
    rating = employee.get_by_role("region", name="Satisfaction")
    rating.get_by_label("Good").check()
    rating.get_by_label("Anything to add? (optional)").fill("Fixed after the firmware update.")
    rating.get_by_role("button", name="Send my rating").click()
    expect(employee.get_by_role("region", name="Satisfaction")).to_contain_text(
        "Fixed after the firmware update."
    )
