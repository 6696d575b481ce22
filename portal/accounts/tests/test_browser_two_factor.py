"""Two-factor set-up in Chromium: the QR code shows under the real CSP, and a code from an
authenticator app (pyotp, holding the secret the page shows) signs the admin in."""

import pyotp
import pytest

from portal.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_up_an_authenticator_at_sign_in_and_reaches_the_dashboard(
    page_for, personas, settings
):
    settings.TWO_FACTOR_REQUIRED = "admins"
    page = page_for(None)
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/login")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/login/two-factor/setup")
    page.get_by_role("button", name="Show the set-up code").click()
    qr = page.get_by_role("img", name="QR code of the set-up link")
    qr.wait_for()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.locator("code.secret").inner_text().replace(" ", "")

    # Real time here: the portal accepts the current step and the one before.
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor").click()
    assert page.get_by_role("heading", name="Your recovery codes").is_visible()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()

    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Admin"
    assert refused == []
