"""Passkeys as a second factor: adding one (attestation "none"), signing in with it after
the password, and what must be refused — a replayed answer, another person's passkey, a
look-alike site, a stale challenge, a counter that went back (a clone). The authenticator
is a software one (`portal.testing.webauthn`) holding a real P-256 key, so py_webauthn
checks real signatures."""

import json
import re
import types

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from portal.accounts import two_factor, two_factor_services
from portal.accounts.models import PasskeyDevice
from portal.accounts.passkey_views import NOT_ADDED, PASSKEY_FAILED, WRONG_PASSWORD
from portal.testing.personas import PASSWORD
from portal.testing.webauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db

SITE = "https://portal.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.APP_URL = SITE
    settings.TWO_FACTOR_REQUIRED = "admins"
    settings.LOCAL_LOGIN = True


@pytest.fixture
def clock(monkeypatch):
    frozen = types.SimpleNamespace(now=1_800_000_000.0)
    fake = types.SimpleNamespace(time=lambda: frozen.now)
    monkeypatch.setattr("portal.accounts.passkeys.time", fake)
    monkeypatch.setattr("portal.accounts.two_factor.time", fake)
    return frozen


def add_passkey(client, authenticator, name="Work laptop", *, origin=SITE):
    options = json.loads(client.post("/settings/two-factor/passkeys/options").content)
    answer = authenticator.register(options, origin=origin)
    return client.post("/settings/two-factor/passkeys", {"name": name, "credential": answer})


def enrol(user, **kwargs) -> SoftAuthenticator:
    client = Client()
    client.force_login(user)
    authenticator = SoftAuthenticator(**kwargs)
    assert add_passkey(client, authenticator).status_code in (200, 302)
    return authenticator


def password(client, email, next_url="/dashboard"):
    return client.post("/login", {"email": email, "password": PASSWORD, "next": next_url})


def options_for_sign_in(client) -> dict:
    response = client.post("/login/two-factor/passkey/options")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def answer(client, credential):
    return client.post("/login/two-factor/passkey", {"credential": credential})


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def security_events(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "portal.security"]


# --- adding ---------------------------------------------------------------------------------


def test_adding_the_first_passkey_turns_two_factor_on_and_shows_recovery_codes(
    client_for, personas, caplog
):
    caplog.set_level("INFO", logger="portal.security")
    client = client_for(personas.requester)
    response = client.post("/settings/two-factor/passkeys/options")
    options = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert options["rp"] == {"id": "portal.example.com", "name": "Ticketing Portal"}
    assert options["user"]["name"] == "requester@example.com"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["excludeCredentials"] == []

    authenticator = SoftAuthenticator()
    added = client.post(
        "/settings/two-factor/passkeys",
        {"name": "  Work   laptop ", "credential": authenticator.register(options, origin=SITE)},
    )
    assert added.status_code == 200
    assert len(re.findall(r"<li><code>([a-z2-7]+)</code></li>", added.content.decode())) == 10
    device = PasskeyDevice.objects.get(user=personas.requester)
    assert (device.name, device.credential_id, device.sign_count) == (
        "Work laptop",
        authenticator.id,
        1,
    )
    assert two_factor.enrolled(personas.requester)
    assert "passkey added" in security_events(caplog)
    page = client.get("/settings/two-factor/passkeys").content.decode()
    assert "Work laptop" in page


def test_a_second_passkey_keeps_the_recovery_codes_and_the_first_is_excluded(client_for, personas):
    first = enrol(personas.requester)
    codes_before = list(StaticDevice.objects.get(user=personas.requester).token_set.all())
    client = client_for(personas.requester)
    options = json.loads(client.post("/settings/two-factor/passkeys/options").content)
    assert [c["id"] for c in options["excludeCredentials"]] == [first.id]
    response = client.post(
        "/settings/two-factor/passkeys",
        {"name": "Key ring", "credential": SoftAuthenticator().register(options, origin=SITE)},
    )
    assert response.status_code == 302 and response["Location"] == "/settings/two-factor/passkeys"
    assert PasskeyDevice.objects.filter(user=personas.requester).count() == 2
    codes_after = list(StaticDevice.objects.get(user=personas.requester).token_set.all())
    assert codes_after == codes_before


@pytest.mark.parametrize(
    "spoil",
    ["look-alike site", "no options asked", "answer posted twice", "garbage", "too large"],
)
def test_an_answer_that_does_not_prove_a_new_passkey_adds_nothing(client_for, personas, spoil):
    client = client_for(personas.requester)
    authenticator = SoftAuthenticator()
    if spoil == "look-alike site":
        response = add_passkey(client, authenticator, origin="https://portal.example.com.evil.test")
    elif spoil == "no options asked":
        options = {"rp": {"id": "portal.example.com"}, "challenge": "AAAAAAAAAAAAAAAAAAAAAA"}
        response = client.post(
            "/settings/two-factor/passkeys",
            {"name": "Laptop", "credential": authenticator.register(options, origin=SITE)},
        )
    elif spoil == "answer posted twice":
        options = json.loads(client.post("/settings/two-factor/passkeys/options").content)
        credential = authenticator.register(options, origin=SITE)
        client.post("/settings/two-factor/passkeys", {"name": "A", "credential": credential})
        PasskeyDevice.objects.all().delete()  # even with the first copy gone
        response = client.post(
            "/settings/two-factor/passkeys", {"name": "A", "credential": credential}
        )
    else:
        client.post("/settings/two-factor/passkeys/options")
        credential = "{not json" if spoil == "garbage" else json.dumps({"x": "y" * 70_000})
        response = client.post(
            "/settings/two-factor/passkeys", {"name": "A", "credential": credential}
        )
    assert response.status_code == 400
    assert NOT_ADDED in response.content.decode()
    assert not PasskeyDevice.objects.exists()


def test_a_passkey_needs_a_name(client_for, personas):
    client = client_for(personas.requester)
    response = add_passkey(client, SoftAuthenticator(), name="   ")
    assert response.status_code == 400
    assert "Give the passkey a name" in response.content.decode()
    assert not PasskeyDevice.objects.exists()


def test_a_company_account_without_a_password_cannot_add_passkeys(client_for, personas):
    personas.requester.set_unusable_password()
    personas.requester.save()
    client = client_for(personas.requester)
    assert client.post("/settings/two-factor/passkeys/options").status_code == 400
    page = client.get("/settings/two-factor/passkeys").content.decode()
    assert 'data-passkey="register"' not in page


# --- signing in -----------------------------------------------------------------------------


def test_an_admin_signs_in_with_password_and_passkey(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    authenticator = enrol(personas.admin)
    assert password(client, "admin@example.com", "/masters")["Location"] == "/login/two-factor"
    page = client.get("/login/two-factor").content.decode()
    assert 'data-passkey="sign-in"' in page and "js/passkeys.js" in page and "<script>" not in page
    options = options_for_sign_in(client)
    assert options["rpId"] == "portal.example.com"
    assert options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [authenticator.id]
    assert not signed_in(client)

    response = answer(client, authenticator.sign_in(options, origin=SITE))
    assert response.status_code == 302 and response["Location"] == "/masters"
    assert signed_in(client) and client.session[SESSION_KEY] == str(personas.admin.pk)
    device = PasskeyDevice.objects.get(user=personas.admin)
    assert device.sign_count == 2 and device.last_used_at is not None
    assert client.get("/masters").status_code == 200
    assert "two-factor ok" in security_events(caplog)


def test_user_verification_is_preferred_not_required(client, personas):
    authenticator = enrol(personas.admin)
    password(client, "admin@example.com")
    options = options_for_sign_in(client)
    response = answer(client, authenticator.sign_in(options, origin=SITE, user_verified=False))
    assert response.status_code == 302 and signed_in(client)


def test_a_replayed_answer_is_refused(client, personas):
    authenticator = enrol(personas.admin, counter=None)  # no counter to give it away
    password(client, "admin@example.com")
    credential = authenticator.sign_in(options_for_sign_in(client), origin=SITE)
    assert answer(client, credential).status_code == 302

    thief = Client()
    password(thief, "admin@example.com")
    assert answer(thief, credential).status_code == 400  # this session was given no challenge
    options_for_sign_in(thief)  # a fresh challenge: the old answer does not match it
    refused = answer(thief, credential)
    assert refused.status_code == 400 and PASSKEY_FAILED in refused.content.decode()
    assert not signed_in(thief)


def test_a_challenge_answers_once(client, personas):
    authenticator = enrol(personas.admin, counter=None)
    password(client, "admin@example.com")
    options = options_for_sign_in(client)
    first = authenticator.sign_in(options, origin=SITE)
    second = authenticator.sign_in(options, origin=SITE)
    bad = SoftAuthenticator(credential_id=authenticator.credential_id)  # wrong key
    assert answer(client, bad.sign_in(options, origin=SITE)).status_code == 400
    # The challenge went with the failed answer: a good answer to it no longer signs in.
    assert answer(client, first).status_code == 400 and not signed_in(client)
    options_for_sign_in(client)
    assert answer(client, second).status_code == 400


def test_another_persons_passkey_is_refused(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    enrol(personas.admin)
    requesters = enrol(personas.requester)
    password(client, "admin@example.com")
    options = options_for_sign_in(client)
    response = answer(client, requesters.sign_in(options, origin=SITE))
    assert response.status_code == 400 and not signed_in(client)
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.name == "portal.security"]
    assert "unknown-credential" in reasons


def test_an_answer_made_for_a_look_alike_site_is_refused(client, personas):
    authenticator = enrol(personas.admin)
    password(client, "admin@example.com")
    options = options_for_sign_in(client)
    phished = authenticator.sign_in(options, origin="https://portal-example.com")
    assert answer(client, phished).status_code == 400
    options = options_for_sign_in(client)
    wrong_rp = authenticator.sign_in(options, origin=SITE, rp_id="example.com")
    assert answer(client, wrong_rp).status_code == 400
    assert not signed_in(client)


def test_a_challenge_expires(client, personas, clock):
    authenticator = enrol(personas.admin)
    password(client, "admin@example.com")
    options = options_for_sign_in(client)
    clock.now += 301
    assert answer(client, authenticator.sign_in(options, origin=SITE)).status_code == 400


def test_a_counter_that_went_back_is_refused_as_a_possible_clone(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    authenticator = enrol(personas.admin)  # registered with counter 1
    password(client, "admin@example.com")
    assert answer(client, authenticator.sign_in(options_for_sign_in(client), origin=SITE))[
        "Location"
    ]
    clone = SoftAuthenticator(
        key=authenticator.key, credential_id=authenticator.credential_id, counter=0
    )
    second = Client()
    password(second, "admin@example.com")
    response = answer(second, clone.sign_in(options_for_sign_in(second), origin=SITE))
    assert response.status_code == 400 and not signed_in(second)
    assert PasskeyDevice.objects.get(user=personas.admin).sign_count == 2
    assert any("possible cloned authenticator" in m for m in security_events(caplog))


def test_wrong_passkey_answers_lock_the_account_like_wrong_codes(client, personas, settings):
    authenticator = enrol(personas.admin)
    forged = SoftAuthenticator(credential_id=authenticator.credential_id)
    password(client, "admin@example.com")
    statuses = []
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        options = options_for_sign_in(client)
        statuses.append(answer(client, forged.sign_in(options, origin=SITE)).status_code)
    assert statuses == [400] * (settings.LOGIN_FAILURES_PER_ACCOUNT - 1) + [429]
    locked = answer(client, authenticator.sign_in(options_for_sign_in(client), origin=SITE))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert not signed_in(client)


def test_sign_in_options_need_a_password_first(client, personas):
    enrol(personas.admin)
    assert client.post("/login/two-factor/passkey/options").status_code == 400
    assert answer(client, "{}")["Location"] == "/login"


def test_a_recovery_code_still_signs_in_a_passkey_only_account(client, personas):
    enrol(personas.admin)
    codes = list(
        StaticDevice.objects.get(user=personas.admin).token_set.values_list("token", flat=True)
    )
    password(client, "admin@example.com")
    page = client.get("/login/two-factor").content.decode()
    assert "Type one of your recovery codes" in page
    response = client.post("/login/two-factor", {"code": codes[0]})
    assert response.status_code == 302 and signed_in(client)


def test_an_admin_who_must_set_up_two_factor_can_add_a_passkey_at_sign_in(client, personas):
    assert password(client, "admin@example.com", "/masters")["Location"] == "/login/two-factor"
    assert client.get("/login/two-factor")["Location"] == "/login/two-factor/setup"
    page = client.get("/login/two-factor/setup").content.decode()
    assert "Or add a passkey" in page and "js/passkeys.js" in page
    authenticator = SoftAuthenticator()
    response = add_passkey(client, authenticator, name="Security key")
    assert response.status_code == 200  # the recovery codes, shown once
    assert 'href="/masters"' in response.content.decode()
    assert signed_in(client) and client.session[SESSION_KEY] == str(personas.admin.pk)
    assert PasskeyDevice.objects.get(user=personas.admin).name == "Security key"


def test_a_half_signed_in_person_with_a_second_factor_cannot_add_another(client, personas):
    enrol(personas.admin)
    password(client, "admin@example.com")
    assert client.post("/settings/two-factor/passkeys/options").status_code == 400
    options = {"rp": {"id": "portal.example.com"}, "challenge": "AAAAAAAAAAAAAAAAAAAAAA"}
    credential = SoftAuthenticator().register(options, origin=SITE)
    response = client.post("/settings/two-factor/passkeys", {"name": "A", "credential": credential})
    assert response["Location"].startswith("/login")
    assert PasskeyDevice.objects.filter(user=personas.admin).count() == 1
    assert not signed_in(client)


def test_a_failed_passkey_at_sign_in_set_up_shows_the_set_up_page_again(client, personas):
    password(client, "admin@example.com")
    response = add_passkey(client, SoftAuthenticator(), origin="https://elsewhere.example")
    assert response.status_code == 400
    assert (
        NOT_ADDED in response.content.decode() and "Set up two-factor" in response.content.decode()
    )
    assert not signed_in(client) and not PasskeyDevice.objects.exists()


# --- removing -------------------------------------------------------------------------------


def remove(client, device, password_given=PASSWORD):
    return client.post(
        f"/settings/two-factor/passkeys/{device.pk}/remove", {"password": password_given}
    )


def test_removing_a_passkey_takes_the_current_password(client_for, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    enrol(personas.agent)
    enrol(personas.agent)
    first, second = PasskeyDevice.objects.filter(user=personas.agent).order_by("pk")
    client = client_for(personas.agent)
    wrong = remove(client, first, "not my password")
    assert wrong.status_code == 400 and WRONG_PASSWORD in wrong.content.decode()
    assert PasskeyDevice.objects.filter(pk=first.pk).exists()
    assert remove(client, first).status_code == 302
    assert list(PasskeyDevice.objects.filter(user=personas.agent)) == [second]
    assert two_factor.enrolled(personas.agent)
    assert "passkey removed" in security_events(caplog)


def test_removing_the_last_passkey_turns_two_factor_off_when_not_required(client_for, personas):
    enrol(personas.requester)
    client = client_for(personas.requester)
    assert remove(client, PasskeyDevice.objects.get()).status_code == 302
    assert not two_factor.enrolled(personas.requester)
    assert not StaticDevice.objects.filter(user=personas.requester).exists()


def test_the_last_second_factor_stays_while_two_factor_is_required(client_for, personas):
    enrol(personas.admin)
    client = client_for(personas.admin)
    response = remove(client, PasskeyDevice.objects.get())
    assert response.status_code == 400
    assert "Two-factor is required" in response.content.decode()
    assert PasskeyDevice.objects.filter(user=personas.admin).exists()


def test_nobody_removes_someone_elses_passkey(client_for, personas):
    enrol(personas.requester)
    device = PasskeyDevice.objects.get()
    assert remove(client_for(personas.admin), device).status_code == 404
    assert PasskeyDevice.objects.filter(pk=device.pk).exists()


def test_wrong_passwords_at_removal_lock_like_sign_in_attempts(client_for, personas, settings):
    enrol(personas.agent)
    device = PasskeyDevice.objects.get()
    client = client_for(personas.agent)
    statuses = [
        remove(client, device, "guess").status_code
        for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT)
    ]
    assert statuses[-1] == 429
    assert remove(client, device).status_code == 429
    assert PasskeyDevice.objects.filter(pk=device.pk).exists()


def test_an_admin_reset_removes_passkeys_too(personas):
    enrol(personas.agent)
    removed = two_factor_services.two_factor_reset(user=personas.agent, actor=personas.admin)
    assert removed == 2  # the passkey and the recovery codes
    assert not PasskeyDevice.objects.exists() and not two_factor.enrolled(personas.agent)


def test_the_api_token_exchange_refuses_accounts_with_a_passkey(client, personas):
    enrol(personas.requester)
    response = client.post(
        "/api/v1/auth/token",
        {"email": "requester@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_passkeys_page_costs_a_fixed_number_of_queries(
    client_for, personas, django_assert_num_queries
):
    enrol(personas.requester)
    enrol(personas.requester)
    client = client_for(personas.requester)
    client.get("/settings/two-factor/passkeys")  # warm up
    # the session with its user (one statement), the passkeys; the navigation's roles and
    # the bell's unread count come from the cache once warm, and page views are written in
    # a batch once a minute
    with django_assert_num_queries(2):
        assert client.get("/settings/two-factor/passkeys").status_code == 200


# --- permission and CSRF matrix ------------------------------------------------------------

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_matrix_passkey_pages(persona, personas):
    client = Client()
    if persona:
        client.force_login(getattr(personas, persona))
    signed = persona is not None
    expected = {
        ("GET", "/settings/two-factor/passkeys"): 200 if signed else 302,
        ("POST", "/settings/two-factor/passkeys"): 400 if signed else 302,  # no challenge
        ("GET", "/settings/two-factor/passkeys/options"): 405,
        # Anonymous: no sign-in under way whose set-up could use it.
        ("POST", "/settings/two-factor/passkeys/options"): 200 if signed else 400,
        ("GET", "/settings/two-factor/passkeys/999999/remove"): 405 if signed else 302,
        ("POST", "/settings/two-factor/passkeys/999999/remove"): 404 if signed else 302,
        ("GET", "/login/two-factor/passkey/options"): 405,
        ("POST", "/login/two-factor/passkey/options"): 400,  # no password given first
        ("GET", "/login/two-factor/passkey"): 405,
        ("POST", "/login/two-factor/passkey"): 302,  # no password given first: to /login
    }
    actual = {
        (method, path): getattr(client, method.lower())(path).status_code
        for method, path in expected
    }
    assert actual == expected


@pytest.mark.parametrize(
    "path",
    [
        "/settings/two-factor/passkeys",
        "/settings/two-factor/passkeys/options",
        "/settings/two-factor/passkeys/1/remove",
        "/login/two-factor/passkey/options",
        "/login/two-factor/passkey",
    ],
)
def test_matrix_every_passkey_post_needs_the_csrf_token(path, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.requester)
    assert client.post(path, {"name": "x", "password": PASSWORD}).status_code == 403
