"""Passkeys in Chromium with its virtual authenticator (DevTools' WebAuthn domain): add a
passkey from Settings, sign out, sign in with the password and then the passkey. The
ceremony script runs under the real CSP; the authenticator does real ES256 signatures."""

import pytest

from portal.accounts.models import PasskeyDevice
from portal.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def virtual_authenticator(page) -> tuple:
    """A platform authenticator that verifies the user (as if a fingerprint was given)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_a_person_adds_a_passkey_and_signs_in_with_password_and_passkey(
    page_for, personas, settings, live_server
):
    # WebAuthn needs a domain name for the relying party: the live server's localhost.
    settings.APP_URL = live_server.url
    assert live_server.url.startswith("http://localhost:")
    page = page_for(personas.agent)
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    cdp, authenticator_id = virtual_authenticator(page)

    page.goto("/settings/two-factor")
    page.get_by_role("link", name="add a passkey").click()
    page.get_by_label("Name").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url("**/settings/two-factor/passkeys")
    assert page.get_by_text("Test laptop", exact=True).is_visible()
    device = PasskeyDevice.objects.get(user=personas.agent)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1  # the key lives in the authenticator only

    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    page.get_by_label("Email").fill("agent@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/two-factor")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    device.refresh_from_db()
    assert device.last_used_at is not None
    assert refused == []


def test_the_passkey_pages_have_no_serious_accessibility_violations(page_for, personas):
    from tests.browser.test_accessibility import serious_violations

    PasskeyDevice.objects.create(
        user=personas.agent, name="Work laptop", credential_id="AAAA", public_key=b"-"
    )
    page = page_for(personas.agent, bypass_csp=True)  # only to inject axe-core
    for path in ["/settings/two-factor/passkeys", "/settings/two-factor"]:
        page.goto(path)
        assert serious_violations(page) == [], path
