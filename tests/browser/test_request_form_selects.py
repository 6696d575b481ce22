"""The new-ticket page's classification selects and the request form they load (issue 22):
a person who picks quickly, and one who uses only the keyboard, both end with the form of
the category they chose and, for the keyboard, the focus still on the select they used."""

import pytest
from playwright.sync_api import expect

from portal.testing.request_forms import every_type_form

# expect() waits 5 s by default whatever the page's timeout; a loaded machine needs longer.
WAIT = 30_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hardware_form(org):
    # On the category, so every subcategory inherits it: no subcategory is needed.
    return every_type_form(category=org.hardware)


def opened(page):
    # A loaded machine answers slowly; bounded, generous waits rather than flaky ones.
    page.set_default_timeout(30_000)
    page.goto("/tickets/new", timeout=60_000)
    return page


def test_group_and_category_picked_while_a_reload_is_in_flight_load_the_category_form(
    page_for, personas, org, hardware_form
):
    page = opened(page_for(personas.requester))
    # The subcategory list's first reload (the group's new categories, none chosen yet) is
    # held as a slow server would, so the category is chosen while it is still in flight.
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/catalog/options/subcategories*", hold_the_first)
    category = page.get_by_label("Category", exact=True)
    with page.expect_request("**/catalog/options/subcategories*"):
        page.get_by_label("Business unit group").select_option(label="Group X")
    category.select_option(label="Hardware")
    held[0].continue_()  # the late answer, for "no category"

    form = page.locator("#request-form")
    expect(form.get_by_label("Asset tag")).to_be_visible(timeout=WAIT)
    expect(form.get_by_label("Cost centre")).to_be_visible(timeout=WAIT)
    # The late answer for "no category" did not win over the choice made after it.
    expect(page.get_by_label("Subcategory")).to_contain_text("Laptop", timeout=WAIT)
    expect(category).to_have_value(str(org.hardware.pk), timeout=WAIT)
    expect(form.get_by_label("Asset tag")).to_be_visible(timeout=WAIT)


def test_choosing_the_classification_by_keyboard_keeps_the_focus_on_the_select(
    page_for, personas, org, hardware_form
):
    page = opened(page_for(personas.requester))
    group = page.get_by_label("Business unit group")
    category = page.get_by_label("Category", exact=True)
    group.focus()
    # Arrow keys on a closed select change its value (and fire `change`) in Chromium.
    page.keyboard.press("ArrowDown")
    expect(group).to_have_value(str(org.group_x.pk), timeout=WAIT)
    expect(category.locator("option", has_text="Hardware")).to_be_attached(timeout=WAIT)
    page.keyboard.press("Tab")
    expect(category).to_be_focused(timeout=WAIT)
    page.keyboard.press("ArrowDown")
    expect(category).to_have_value(str(org.hardware.pk), timeout=WAIT)

    form = page.locator("#request-form")
    expect(form.get_by_label("Asset tag")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Subcategory")).to_contain_text("Laptop", timeout=WAIT)
    # The person is still where they were: the next Tab goes on from the category.
    assert page.evaluate("document.activeElement.id") == "id_category"
    expect(category).to_be_focused(timeout=WAIT)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Subcategory")).to_be_focused(timeout=WAIT)
