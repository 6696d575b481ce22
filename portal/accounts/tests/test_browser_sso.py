"""Company sign-in in Chromium: the button on /login, the provider's own sign-in page on
loopback, and back to the dashboard."""

import pytest

from portal.accounts.models import SsoIdentity
from portal.testing.oidc import employee

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_signs_in_with_the_company_button_and_sees_the_dashboard(page_for, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    page = page_for(None)
    page.goto("/tickets")
    assert "/login?next=/tickets" in page.url

    page.get_by_role("button", name="Sign in with Example Corp").click()
    page.wait_for_url(f"{oidc_provider.url}/oauth2/authorize?**")
    page.get_by_placeholder("Subject").fill("ann-sub")
    page.get_by_role("button", name="Authorize", exact=True).click()

    page.wait_for_url("**/tickets")
    page.goto("/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Ann"
    assert SsoIdentity.objects.get().user.email == "ann@example.com"
