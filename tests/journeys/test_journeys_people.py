"""Journeys 1 and 5: a ticket's whole life between an employee and the people who work it,
and a requester who tries to reach someone else's ticket by every door."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.journeys.steps import HARDWARE_ANSWERS, fact, login, raise_ticket

pytestmark = [pytest.mark.browser, pytest.mark.journey, pytest.mark.xdist_group("journeys")]

DEMO_EMAILS = {"Alex Agent": "agent@example.com", "Avery Agent": "agent2@example.com",
               "Lee Lead": "lead@example.com"}  # fmt: skip
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def wait_for_mail(smtp, address: str, contains: str, timeout: float = 30) -> str:
    """The subject of the first message to `address` whose subject contains `contains`;
    the worker delivers in the background, so wait for it (polling, not sleeping blind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.messages_to(address):
            if contains in message["Subject"]:
                return message["Subject"]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} about {contains!r} within {timeout} s")


def raise_with_attachment(page, tmp_path) -> str:
    screenshot = tmp_path / "error-dialog.png"
    screenshot.write_bytes(PNG)
    number = raise_ticket(
        page, title="Laptop shows a disk error at start-up", group="IT", category="Hardware",
        subcategory="Laptop", description="The dialog is attached.", attach=screenshot,
        answers=HARDWARE_ANSWERS,
    )  # fmt: skip
    expect(page.get_by_role("link", name="error-dialog.png")).to_be_visible()
    # The request form's answers are on the ticket, as the person gave them.
    details = page.get_by_role("region", name="Request details")
    expect(details).to_contain_text("Asset tag")
    expect(details).to_contain_text("LT-01234")
    expect(details).to_contain_text("CC-1100 IT")
    return number


def set_status(page, label: str) -> None:
    page.get_by_label("Change status").select_option(label=label)
    page.get_by_role("button", name="Update status").click()


def test_a_ticket_from_raising_to_closing(new_page, portal, tmp_path):
    employee = new_page()
    login(employee, "employee@example.com")
    number = raise_with_attachment(employee, tmp_path)
    assignee = DEMO_EMAILS[fact(employee, "Assignee")]

    # The SPOC of IT and the routed agent are told, in the portal and by email: the SPOC
    # of a new ticket, the agent (once) that it is theirs.
    told = {"spoc@example.com": f"New ticket {number}", assignee: f"{number} is assigned to you"}
    for address, line in told.items():
        wait_for_mail(portal.smtp, address, number)
        page = new_page()
        login(page, address)
        page.goto("/notifications")
        expect(page.get_by_role("button", name=re.compile(line))).to_be_visible()
    wait_for_mail(portal.smtp, "employee@example.com", f"We received your ticket {number}")

    # The agent answers in public and notes something internal, then resolves.
    agent = new_page()
    login(agent, assignee)
    agent.goto(f"/tickets/{number}")
    agent.get_by_label("Comment", exact=True).fill("Please back up your files today.")
    agent.get_by_role("button", name="Add comment").click()
    agent.get_by_label("Comment", exact=True).fill("SMART shows reallocated sectors.")
    agent.get_by_label("Internal (only people working the ticket see it)").check()
    agent.get_by_role("button", name="Add comment").click()
    expect(agent.get_by_text("SMART shows reallocated sectors.")).to_be_visible()
    set_status(agent, "Resolved")
    expect(agent.locator(".ticket-facts dl.facts")).to_contain_text("Resolved")

    # The employee sees the public comment, never the internal one, and has the emails.
    employee.goto(f"/tickets/{number}")
    expect(employee.get_by_text("Please back up your files today.")).to_be_visible()
    expect(employee.get_by_text("SMART shows reallocated sectors.")).to_have_count(0)
    wait_for_mail(portal.smtp, "employee@example.com", f"New comment on {number}")
    wait_for_mail(portal.smtp, "employee@example.com", f"{number} is now Resolved")
    employee_mail = portal.smtp.messages_to("employee@example.com")
    assert not any("SMART" in m.get_body(("plain",)).get_content() for m in employee_mail), (
        "an internal note reached the requester by email"
    )

    # Not fixed after all: the employee reopens; the agent resolves again and closes.
    set_status(employee, "Reopen: it is not fixed")
    expect(employee.locator(".ticket-facts dl.facts")).to_contain_text("In progress")
    agent.goto(f"/tickets/{number}")
    set_status(agent, "Resolved")
    set_status(agent, "Closed")
    expect(agent.locator(".ticket-facts dl.facts")).to_contain_text("Closed")
    employee.goto(f"/tickets/{number}")
    expect(employee.locator(".ticket-facts dl.facts")).to_contain_text("Closed")


def test_a_requester_cannot_reach_another_requesters_ticket_by_any_door(new_page, portal, tmp_path):
    owner = new_page()
    login(owner, "employee@example.com")
    number = raise_with_attachment(owner, tmp_path)
    download = owner.get_by_role("link", name="error-dialog.png").get_attribute("href")
    assert owner.request.get(download).ok  # the owner can

    other = new_page()
    login(other, "employee2@example.com")
    assert other.goto(f"/tickets/{number}").status == 404
    assert other.request.get(download).status == 404
    token = other.request.post(
        "/api/v1/auth/token",
        data={"email": "employee2@example.com", "password": "portal-demo", "name": "journey"},
    ).json()["token"]
    answer = other.request.get(
        f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 404
    assert answer.headers["content-type"] == "application/problem+json"
