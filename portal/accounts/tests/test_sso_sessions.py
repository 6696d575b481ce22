"""After company sign-in: the provider is asked again every OIDC_RECHECK_MINUTES; someone
disabled there loses their sessions and API tokens; an outage of the provider signs
nobody out; LOCAL_LOGIN=off leaves the password form to break-glass admins; SSO unset
leaves the portal as it was. Also the permission and CSRF matrix of the two new views."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from portal.accounts.models import User, UserSession
from portal.accounts.sso.middleware import ENDED, EXPIRY_KEY
from portal.accounts.sso.views import UNAVAILABLE
from portal.accounts.tests.test_sso import sign_in, signed_in_user, start
from portal.api.models import ApiToken
from portal.api.tokens import token_create
from portal.testing.oidc import configure_portal, employee, silent_server
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db


def recheck_due(client):
    session = client.session
    session[EXPIRY_KEY] = time.time() - 1
    session.save()


@pytest.fixture
def ann(client, oidc_provider):
    """Ann signed in through the provider in `client`, with an API token."""
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    user = signed_in_user(client)
    token_create(user=user, name="script", expires_in_days=30)
    return user


def test_a_recheck_with_the_provider_keeps_an_active_account_signed_in(client, ann):
    recheck_due(client)
    assert client.get("/dashboard").status_code == 200
    assert client.session[EXPIRY_KEY] > time.time() + 60


def test_disabled_at_the_provider_loses_sessions_and_api_tokens_at_the_next_check(
    client, ann, oidc_provider
):
    elsewhere = Client()
    assert sign_in(elsewhere, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    oidc_provider.revoke_tokens("ann-sub")  # what disabling the account does
    assert client.get("/dashboard").status_code == 200  # not due yet
    recheck_due(client)
    response = client.get("/dashboard")
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert signed_in_user(client) is None
    assert ENDED in client.get("/login").content.decode()
    assert not UserSession.objects.filter(user=ann).exists()
    assert elsewhere.get("/dashboard").status_code == 302
    assert not ApiToken.objects.filter(user=ann, revoked_at__isnull=True).exists()


def test_htmx_requests_are_told_to_reload_the_sign_in_page(client, ann, oidc_provider):
    oidc_provider.revoke_tokens("ann-sub")
    recheck_due(client)
    response = client.get("/dashboard", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == "/login"


def test_provider_down_at_recheck_keeps_the_session_and_asks_again_soon(client, ann, settings):
    with silent_server() as url:
        # The provider's token endpoint stops answering (discovery is cached).
        from django.core.cache import cache

        key = f"sso:discovery:{settings.OIDC_ISSUER}"
        cache.set(key, {**cache.get(key), "token_endpoint": url + "/token"})
        settings.OIDC_TIMEOUT = 1
        recheck_due(client)
        assert client.get("/dashboard").status_code == 200
    assert time.time() < client.session[EXPIRY_KEY] <= time.time() + 60


def test_without_a_refresh_token_a_page_load_goes_back_to_the_provider_silently(client, ann):
    session = client.session
    del session["_sso_refresh"]
    session.save()
    recheck_due(client)
    response = client.get("/tickets")
    assert response.status_code == 302
    assert "prompt=none" in response["Location"]
    # htmx and POST requests wait for the next full page load.
    assert client.get("/dashboard", headers={"HX-Request": "true"}).status_code == 200


def test_password_sessions_are_never_sent_to_the_provider(client, oidc_provider, personas):
    client.post("/login", {"email": "requester@example.com", "password": PASSWORD})
    recheck_due(client)
    assert client.get("/dashboard").status_code == 200
    assert oidc_provider.discovery_requests == 0


# --- the provider down at sign-in, LOCAL_LOGIN=off and break-glass -------------------------


@pytest.mark.fault
def test_provider_down_gives_a_clear_message_within_the_timeout_and_break_glass_works(
    client, settings, personas
):
    with silent_server() as url:
        configure_portal(
            settings, url, LOCAL_LOGIN=False, LOCAL_LOGIN_BREAK_GLASS=["admin@example.com"]
        )
        settings.OIDC_TIMEOUT = 1
        began = time.monotonic()
        response = client.post("/oidc/authenticate/")
        waited = time.monotonic() - began
    assert response.status_code == 302 and response["Location"] == "/login"
    assert UNAVAILABLE in client.get("/login").content.decode()
    assert waited < 10  # bounded by OIDC_TIMEOUT, not by the provider
    signed = client.post("/login", {"email": "admin@example.com", "password": PASSWORD})
    assert signed.status_code == 302 and signed["Location"] == "/dashboard"


def test_local_login_off_refuses_passwords_of_everyone_but_break_glass_admins(
    client, oidc_provider, settings, personas
):
    settings.LOCAL_LOGIN = False
    settings.LOCAL_LOGIN_BREAK_GLASS = ["admin@example.com"]
    page = client.get("/login").content.decode()
    assert "Sign in with Example Corp" in page and "Emergency sign-in" in page
    assert "Forgot your password?" not in page
    for email in ("requester@example.com", "nobody@example.com"):
        response = client.post("/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 400
        assert "company sign-in only" in response.content.decode()
    # An admin not named as break-glass is refused too.
    personas.outsider.is_staff = True
    personas.outsider.save()
    refused = client.post("/login", {"email": "outsider@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    assert (
        client.post("/login", {"email": "admin@example.com", "password": PASSWORD})["Location"]
        == "/dashboard"
    )


def test_local_login_off_also_holds_for_the_api_token_exchange(
    client, oidc_provider, settings, personas
):
    settings.LOCAL_LOGIN = False
    body = {"email": "requester@example.com", "password": PASSWORD, "name": "x"}
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 400


def test_without_configuration_there_is_no_company_sign_in(client, personas):
    page = client.get("/login").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.post("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert (
        client.post("/login", {"email": "requester@example.com", "password": PASSWORD})["Location"]
        == "/dashboard"
    )


# --- permission and CSRF matrix of the new views ------------------------------------------

PERSONAS = ["anonymous", "requester", "agent", "lead", "spoc", "admin", "outsider"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_start_matrix_every_persona_is_sent_to_the_provider_with_a_csrf_token(
    persona, oidc_provider, personas
):
    client = Client(enforce_csrf_checks=True)
    if persona != "anonymous":
        client.force_login(getattr(personas, persona))
    page = client.get("/login")
    if persona != "anonymous":
        assert page.status_code == 302  # already signed in: on to the dashboard
        page = client.get("/logout")
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    assert client.post("/oidc/authenticate/").status_code == 403  # no CSRF token
    assert client.get("/oidc/authenticate/").status_code == 405
    if token is None:
        client.get("/login")
        token = client.cookies["csrftoken"].value
    response = client.post("/oidc/authenticate/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert response["Location"].startswith(oidc_provider.url + "/oauth2/authorize?")


@pytest.mark.parametrize("persona", PERSONAS)
def test_callback_matrix_without_a_state_of_this_session_nobody_signs_in(
    persona, oidc_provider, personas
):
    client = Client()
    if persona != "anonymous":
        client.force_login(getattr(personas, persona))
    before = client.session.get(SESSION_KEY)
    response = client.get("/oidc/callback/", {"code": "c", "state": "not-ours"})
    assert response.status_code == 302 and response["Location"] == "/login"
    assert client.session.get(SESSION_KEY) == before
    assert client.post("/oidc/callback/").status_code == 405
    assert User.objects.filter(sso_identities__isnull=False).count() == 0


def test_start_keeps_state_nonce_and_verifier_in_the_session(client, oidc_provider):
    start(client)
    (entry,) = client.session["oidc_states"].values()
    assert entry["nonce"] and len(entry["code_verifier"]) >= 43
