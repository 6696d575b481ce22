import pytest

from portal.notifications.services import notifications_mark_all_read
from portal.testing.notices import deliver_pending
from portal.tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_count_changes_after_another_user_comments(page_for, personas, org):
    ticket = services.ticket_create(
        requester=personas.requester, title="VPN drops every hour", description="Since Monday.",
        group=org.group_x, category=org.hardware,
    )  # fmt: skip
    deliver_pending()  # the worker's part, within seconds of each event
    notifications_mark_all_read(user=personas.requester)  # the "we received it" note
    page = page_for(personas.requester)
    page.clock.install()
    page.goto("/dashboard")
    assert page.locator("#bell").get_attribute("aria-label") == "Notifications: 0 unread"

    services.comment_add(actor=ticket.assignee, ticket=ticket, body="Which VPN client?")
    deliver_pending()
    page.clock.run_for(31_000)  # the bell polls every 30 seconds

    page.get_by_test_id("unread-count").wait_for()
    assert page.get_by_test_id("unread-count").inner_text() == "1"
    assert page.url.endswith("/dashboard")  # no reload, no navigation

    page.locator("#bell").click()
    page.wait_for_url("**/notifications")
    page.get_by_role("button", name=f"New comment on {ticket.number}: VPN drops every hour").click()
    page.wait_for_url(f"**/tickets/{ticket.number}")
    assert page.get_by_text("Which VPN client?").is_visible()
    assert page.locator("#bell").get_attribute("aria-label") == "Notifications: 0 unread"
