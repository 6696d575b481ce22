import pytest

from portal.notifications.services import notify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_count_updates_without_a_reload(page_for, personas):
    page = page_for(personas.requester)
    page.clock.install()
    page.goto("/dashboard")
    bell = page.locator("#bell")
    assert bell.get_attribute("aria-label") == "Notifications: 0 unread"

    # Someone else's action tells the requester something.
    notify(
        recipients=[personas.requester],
        kind="test_event",
        text="Agent commented",
        link="/dashboard",
        context={"text": "Agent commented"},
        event_key="bell:1",
        actor=personas.agent,
    )
    page.clock.run_for(31_000)  # the bell polls every 30 seconds

    page.get_by_test_id("unread-count").wait_for()
    assert page.get_by_test_id("unread-count").inner_text() == "1"
    assert page.url.endswith("/dashboard")  # no reload, no navigation

    bell = page.locator("#bell")
    bell.click()
    page.wait_for_url("**/notifications")
    page.get_by_role("button", name="Agent commented").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("#bell").get_attribute("aria-label") == "Notifications: 0 unread"
