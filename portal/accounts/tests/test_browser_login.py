import pytest

from portal.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_signs_in_with_the_form_and_sees_the_dashboard(page_for, personas):
    page = page_for(None)
    page.goto("/dashboard")
    assert "/login?next=/dashboard" in page.url

    page.get_by_label("Email").fill("  Requester@Example.com ")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Requester"
    assert page.get_by_role("navigation", name="Main").is_visible()
