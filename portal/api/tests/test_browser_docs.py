"""The interactive docs really run in a browser under the site's CSP (no violations)."""

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_swagger_ui_renders_the_api_without_csp_violations(page_for, personas):
    page = page_for(personas.agent)
    page.add_init_script(RECORD_VIOLATIONS)
    console_errors = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="Ticketing portal API").wait_for()
    page.locator(
        ".opblock-summary-path", has_text="/api/v1/tickets/{number}/transitions"
    ).first.wait_for()
    assert page.evaluate("window.__csp") == []
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_a_person_creates_copies_and_revokes_a_token_in_the_browser(page_for, personas, tmp_path):
    from portal.api.models import ApiToken

    page = page_for(personas.requester)
    page.goto("/settings/tokens")
    page.get_by_label("Name").fill("laptop script")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="Token").input_value()
    assert secret.startswith("ptk_")
    page.screenshot(path=tmp_path / "tokens.png", full_page=True)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke “laptop script”").click()
    page.get_by_text("The token was revoked").wait_for()
    assert ApiToken.objects.get(user=personas.requester).revoked_at is not None
