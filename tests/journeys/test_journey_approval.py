"""An HR payroll correction needs the manager's yes: the employee answers the request form,
the ticket waits (no team, nobody assigned), the manager approves from the email link's
confirmation page, and the ticket is routed to Payroll and worked."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.journeys.steps import fact, history, login, raise_ticket

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]

PAYROLL_ANSWERS = {"Pay month": "2026-10-01", "Amount": "120.50", "Paid": "Too little"}


def _approve_link(smtp, address: str, number: str, timeout: float = 60) -> str:
    """The Approve link's path in the approval email to `address` about `number`; the
    worker delivers in the background, so wait for it (polling, not sleeping blind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.messages_to(address):
            if number in message["Subject"] and "approval" in message["Subject"]:
                body = message.get_body(preferencelist=("plain",)).get_content()
                return re.search(r"Approve: https?://[^/\s]+(/approvals/link/\S+)", body)[1]
        time.sleep(0.2)
    raise AssertionError(f"no approval mail to {address} about {number} within {timeout} s")


def test_a_payroll_correction_waits_for_the_manager_who_approves_from_the_email(new_page, portal):
    employee = new_page()
    login(employee, "employee@example.com")
    number = raise_ticket(
        employee, title="October pay is short", group="Human Resources", category="Payroll",
        subcategory="Salary change", answers=PAYROLL_ANSWERS,
        description="My overtime from October is missing from the payslip.",
    )  # fmt: skip
    expect(employee.locator("dl.facts").first).to_contain_text("Awaiting approval")
    expect(history(employee).filter(has_text="asked for approval")).to_contain_text(
        "Waiting for Lee Lead."
    )

    # The manager (Lee Lead) opens the email's Approve link, signs in, and confirms.
    link = _approve_link(portal.smtp, "lead@example.com", number)
    manager = new_page()
    login(manager, "lead@example.com")
    manager.goto(link)
    expect(manager.get_by_role("heading", level=1)).to_contain_text(f"Approval of {number}")
    expect(manager.get_by_text("120.5")).to_be_visible()
    expect(manager.get_by_label("Approve")).to_be_checked()  # a GET decided nothing yet
    manager.get_by_label("Comment").fill("Checked with the timesheet.")
    manager.get_by_role("button", name="Send my decision").click()
    expect(manager.locator(".messages")).to_contain_text(f"You approved {number}.")

    # Routed exactly as a new ticket: Payroll's team has it.
    employee.reload()
    expect(employee.locator("dl.facts").first).to_contain_text("Payroll")
    assert fact(employee, "Status") == "New"
    expect(history(employee).filter(has_text="approved the request")).to_contain_text(
        "Checked with the timesheet."
    )
    # The one who holds it now works it.
    holder = fact(employee, "Assignee")
    assert holder in {"Hana Hughes", "Hugo Hall"}
