"""Two-factor for password sign-ins: an authenticator app's codes (made here with pyotp
under a frozen clock), recovery codes, set-up with a QR code, the policy, and the sign-in
lockout applied to codes."""

import re
import types
from base64 import b32encode
from urllib.parse import unquote

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import two_factor_services
from portal.accounts.two_factor_views import WRONG_CODE
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NOW = 1_800_000_015.0  # the middle of a 30-second step


@pytest.fixture
def clock(monkeypatch):
    """django-otp's clock (and the pending sign-in's), frozen; `clock.now` moves it."""
    frozen = types.SimpleNamespace(now=NOW)
    fake = types.SimpleNamespace(time=lambda: frozen.now)
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", fake)
    monkeypatch.setattr("portal.accounts.two_factor.time", fake)
    return frozen


@pytest.fixture(autouse=True)
def admins_need_two_factor(settings):
    settings.TWO_FACTOR_REQUIRED = "admins"
    settings.LOCAL_LOGIN = True


def app_for(device) -> pyotp.TOTP:
    """The person's authenticator app, holding the device's secret."""
    return pyotp.TOTP(b32encode(device.bin_key).decode())


def enrol(user, clock) -> tuple[pyotp.TOTP, list[str]]:
    device = two_factor_services.two_factor_setup_begin(user=user)
    app = app_for(device)
    codes = two_factor_services.two_factor_setup_confirm(user=user, code=app.at(clock.now))
    clock.now += 30  # the set-up code is used: the next sign-in needs the next one
    return app, codes


def password(client, email, next_url=None):
    data = {"email": email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data)


def code(client, value):
    return client.post("/login/two-factor", {"code": value})


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- setting up ---------------------------------------------------------------------------


def test_an_admin_without_an_authenticator_sets_one_up_before_being_signed_in(
    client, personas, clock
):
    response = password(client, "admin@example.com", "/masters")
    assert response["Location"] == "/login/two-factor"
    assert not signed_in(client)
    assert client.get("/login/two-factor")["Location"] == "/login/two-factor/setup"
    page = client.get("/login/two-factor/setup").content.decode()
    assert "Show the set-up code" in page and "data:image" not in page  # GET writes nothing
    assert not TOTPDevice.objects.exists()

    assert client.post("/login/two-factor/setup", {"action": "begin"}).status_code == 302
    page = client.get("/login/two-factor/setup").content.decode()
    assert 'src="data:image/svg+xml' in page and "style=" not in page
    device = TOTPDevice.objects.get(user=personas.admin, confirmed=False)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")

    wrong = client.post("/login/two-factor/setup", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and WRONG_CODE in wrong.content.decode()
    assert not signed_in(client)

    good = client.post(
        "/login/two-factor/setup", {"action": "confirm", "code": app_for(device).at(clock.now)}
    )
    assert good.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", good.content.decode())
    assert len(codes) == 10
    assert signed_in(client) and client.session[SESSION_KEY] == str(personas.admin.pk)
    assert 'href="/masters"' in good.content.decode()


def test_the_set_up_page_keeps_to_the_content_security_policy(client, personas):
    client.force_login(personas.requester)
    client.post("/login/two-factor/setup", {"action": "begin"})
    response = client.get("/login/two-factor/setup")
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy
    # The QR code is an <img> of an SVG without style: nothing for style-src to refuse.
    page = response.content.decode()
    src = re.search(r'<img class="qr" src="(data:image/svg\+xml[^"]+)"', page).group(1)
    svg = unquote(src.partition(",")[2])
    assert svg.startswith("<svg") and "style" not in svg


# --- signing in with a code -----------------------------------------------------------------


def test_an_enrolled_person_needs_the_current_code_and_it_works_once(client, personas, clock):
    app, _ = enrol(personas.requester, clock)
    assert password(client, "requester@example.com", "/tickets")["Location"] == "/login/two-factor"
    assert not signed_in(client)
    response = code(client, app.at(clock.now))
    assert response.status_code == 302 and response["Location"] == "/tickets"
    assert signed_in(client)

    replay = Client()
    password(replay, "requester@example.com")
    refused = code(replay, app.at(clock.now))
    assert refused.status_code == 400 and not signed_in(replay)


def test_the_previous_code_is_accepted_for_clock_drift_but_older_ones_are_not(
    client, personas, clock
):
    app, _ = enrol(personas.requester, clock)
    clock.now += 120  # well past the set-up code
    password(client, "requester@example.com")
    assert code(client, app.at(clock.now - 90)).status_code == 400
    assert code(client, app.at(clock.now - 30)).status_code == 302


def test_a_code_with_spaces_is_read_as_typed(client, personas, clock):
    app, _ = enrol(personas.requester, clock)
    password(client, "requester@example.com")
    typed = app.at(clock.now)
    assert code(client, f" {typed[:3]} {typed[3:]} ").status_code == 302


def test_a_recovery_code_signs_in_once(client, personas, clock):
    _, codes = enrol(personas.requester, clock)
    password(client, "requester@example.com")
    response = code(client, codes[0].upper())
    assert response.status_code == 302 and signed_in(client)
    assert "9 left" in client.get("/dashboard").content.decode()
    again = Client()
    password(again, "requester@example.com")
    assert code(again, codes[0]).status_code == 400


def test_wrong_codes_lock_the_account_at_that_address_like_wrong_passwords(
    client, personas, clock, settings
):
    app, _ = enrol(personas.requester, clock)
    password(client, "requester@example.com")
    statuses = [
        code(client, "123456").status_code for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT)
    ]
    assert statuses[:-1] == [400] * (settings.LOGIN_FAILURES_PER_ACCOUNT - 1)
    assert statuses[-1] == 429
    locked = code(client, app.at(clock.now))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert not signed_in(client)
    # The same counter: the password is refused from this address too, even the right one.
    assert password(Client(), "requester@example.com").status_code == 429
    # Elsewhere the owner still gets in.
    other = Client(REMOTE_ADDR="203.0.113.9")
    password(other, "requester@example.com")
    assert code(other, app.at(clock.now)).status_code == 302


def test_the_half_signed_in_state_expires(client, personas, clock, settings):
    app, _ = enrol(personas.requester, clock)
    password(client, "requester@example.com")
    clock.now += settings.TWO_FACTOR_PENDING_SECONDS + 1
    response = code(client, app.at(clock.now))
    assert response["Location"] == "/login" and not signed_in(client)


def test_a_code_page_without_a_password_first_sends_to_the_sign_in_page(client, personas):
    assert code(client, "123456")["Location"] == "/login"
    assert client.get("/login/two-factor/setup")["Location"] == "/login"


# --- the policy ----------------------------------------------------------------------------


def test_requesters_sign_in_with_a_password_alone_unless_everyone_needs_two_factor(
    client, personas, settings
):
    assert password(client, "requester@example.com")["Location"] == "/dashboard"
    settings.TWO_FACTOR_REQUIRED = "everyone"
    other = Client()
    assert password(other, "requester@example.com")["Location"] == "/login/two-factor"


def test_with_local_login_off_the_break_glass_admin_is_not_asked(client, personas, settings):
    settings.LOCAL_LOGIN = False
    settings.LOCAL_LOGIN_BREAK_GLASS = ["admin@example.com"]
    assert password(client, "admin@example.com")["Location"] == "/dashboard"


def test_policy_off_still_asks_those_who_turned_it_on(client, personas, settings, clock):
    settings.TWO_FACTOR_REQUIRED = "off"
    enrol(personas.requester, clock)
    assert password(client, "requester@example.com")["Location"] == "/login/two-factor"
    assert password(Client(), "admin@example.com")["Location"] == "/dashboard"


def test_the_api_token_exchange_refuses_accounts_with_two_factor(client, personas, clock):
    body = {"email": "admin@example.com", "password": PASSWORD, "name": "script"}
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["type"].endswith("two-factor-required")


def test_company_sign_in_never_asks_for_a_code(client, oidc_provider, settings):
    from portal.accounts.tests.test_sso import sign_in
    from portal.testing.oidc import employee

    settings.TWO_FACTOR_REQUIRED = "everyone"
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"


# --- the settings page -----------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(client, personas, clock):
    _, old = enrol(personas.requester, clock)
    client.force_login(personas.requester)
    response = client.post("/settings/two-factor/recovery-codes")
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_turning_off_takes_a_current_code_and_is_refused_when_required(client, personas, clock):
    app, _ = enrol(personas.requester, clock)
    client.force_login(personas.requester)
    assert client.post("/settings/two-factor/disable", {"code": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(user=personas.requester).exists()
    response = client.post("/settings/two-factor/disable", {"code": app.at(clock.now)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.requester).exists()

    admin_app, _ = enrol(personas.admin, clock)
    admin = Client()
    admin.force_login(personas.admin)
    refused = admin.post("/settings/two-factor/disable", {"code": admin_app.at(clock.now)})
    assert refused.status_code == 302
    assert TOTPDevice.objects.filter(user=personas.admin, confirmed=True).exists()


def test_the_settings_page_costs_a_fixed_number_of_queries(
    client, personas, clock, django_assert_num_queries
):
    enrol(personas.requester, clock)
    client.force_login(personas.requester)
    client.get("/settings/two-factor")  # warm up (content types of the device models)
    # the session with its user (one statement), the confirmed TOTP device, the passkey
    # count, the recovery-code device and its token count (the navigation's roles and the
    # bell from the cache)
    with django_assert_num_queries(5):
        assert client.get("/settings/two-factor").status_code == 200


# --- permission and CSRF matrix ------------------------------------------------------------

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_matrix_settings_pages(persona, personas):
    client = Client()
    if persona:
        client.force_login(getattr(personas, persona))
    expected = {
        ("GET", "/settings/two-factor"): 200 if persona else 302,
        ("POST", "/settings/two-factor"): 405 if persona else 302,
        ("GET", "/settings/two-factor/recovery-codes"): 405 if persona else 302,
        ("POST", "/settings/two-factor/recovery-codes"): 400 if persona else 302,  # none set up
        ("GET", "/settings/two-factor/disable"): 405 if persona else 302,
        ("POST", "/settings/two-factor/disable"): (
            (302 if persona == "admin" else 400) if persona else 302
        ),
        ("GET", "/login/two-factor/setup"): 200 if persona else 302,
        ("POST", "/login/two-factor"): 302,  # no password given first: back to /login
    }
    actual = {
        (method, path): getattr(client, method.lower())(path).status_code
        for method, path in expected
    }
    assert actual == expected


@pytest.mark.parametrize(
    "path",
    [
        "/settings/two-factor/recovery-codes",
        "/settings/two-factor/disable",
        "/login/two-factor/setup",
        "/login/two-factor",
    ],
)
def test_matrix_every_post_needs_the_csrf_token(path, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.requester)
    assert client.post(path, {"action": "begin", "code": "1"}).status_code == 403
