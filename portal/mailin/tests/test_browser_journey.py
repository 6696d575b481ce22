"""In Chromium: an employee's email becomes a ticket, the agent answers on the page, and
the employee's email reply (Outlook, with the quoted history) shows up as their comment."""

import pytest
from playwright.sync_api import expect

from portal.mailin.tests import fixtures
from portal.notifications.models import EmailDelivery
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_email_to_ticket_page_answer_and_email_reply_as_comment(
    page_for, personas, imap_server, poll
):
    imap_server.append(
        fixtures.plain("requester@example.com", "Docking station dead", "No power light.")
    )
    poll()
    ticket = access.system_read(Ticket).get(title="Docking station dead")

    agent = page_for(ticket.assignee)
    agent.goto(f"/tickets/{ticket.number}")
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Docking station dead")
    expect(agent.locator("body")).to_contain_text("No power light.")
    agent.get_by_role("textbox", name="Comment").fill("Please try the other power socket.")
    agent.get_by_role("button", name="Add comment").click()
    agent.wait_for_load_state()

    deliver_pending()
    [mail] = written(
        EmailDelivery.objects.filter(to_address="requester@example.com", kind="ticket_comment")
    )
    assert mail.subject.startswith(f"[{ticket.number}] ")
    imap_server.append(
        fixtures.outlook_reply(
            "requester@example.com",
            mail.subject,
            in_reply_to=mail.message_id,
            references=f"{mail.thread_id} {mail.message_id}",
        )
    )
    poll()

    requester = page_for(personas.requester)
    requester.goto(f"/tickets/{ticket.number}")
    comments = requester.locator(".comments")
    expect(comments).to_contain_text("Please try the other power socket.")
    expect(comments).to_contain_text("Thanks, it works again after the restart.")
    expect(comments).not_to_contain_text("Sent: Friday")  # the quoted history was cut
