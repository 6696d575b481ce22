"""Back-Channel Logout (OpenID Connect Back-Channel Logout 1.0) against the loopback
provider: a logout token signed by a key the provider publishes ends the person's
sessions; every other token is refused with 400 and its reason on the security log."""

import logging
import uuid

import pytest
from django.test import Client

from portal.accounts.models import UserSession
from portal.accounts.sso.backchannel import LOGOUT_EVENT, MAX_AGE_SECONDS
from portal.accounts.tests.test_sso import sign_in, signed_in_user
from portal.api.models import ApiToken
from portal.api.tokens import token_create
from portal.testing.oidc import CLIENT_ID, SigningKey, employee, now, unsigned_token
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/oidc/backchannel-logout/"


def logout_claims(provider, sub="ann-sub", **extra) -> dict:
    return {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "iat": now(),
        "jti": uuid.uuid4().hex,
        "sub": sub,
        "sid": "provider-session-1",
        "events": {LOGOUT_EVENT: {}},
        **extra,
    }


def deliver(token: str):
    """The provider's POST: no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True).post(URL, {"logout_token": token})


@pytest.fixture
def ann(client, oidc_provider):
    """Ann signed in through the provider in `client` and in a second browser."""
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    elsewhere = Client()
    assert sign_in(elsewhere, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    user = signed_in_user(client)
    token_create(user=user, name="script", expires_in_days=30)
    return user, elsewhere


def test_a_good_logout_token_ends_every_session_of_the_person(client, ann, oidc_provider):
    user, elsewhere = ann
    response = deliver(oidc_provider.harness_key.sign(logout_claims(oidc_provider)))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    for browser in (client, elsewhere):
        assert browser.get("/dashboard").status_code == 302
    assert not UserSession.objects.filter(user=user).exists()
    # Signing out is not a disabled account: the API tokens stay.
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_other_people_keep_their_sessions(client, ann, oidc_provider, personas):
    other = Client()
    other.post("/login", {"email": personas.requester.email, "password": PASSWORD})
    assert deliver(oidc_provider.harness_key.sign(logout_claims(oidc_provider))).status_code == 200
    assert other.get("/dashboard").status_code == 200


def test_a_token_for_nobody_bound_is_accepted_and_ends_nothing(client, ann, oidc_provider):
    token = oidc_provider.harness_key.sign(logout_claims(oidc_provider, sub="someone-else"))
    assert deliver(token).status_code == 200
    assert client.get("/dashboard").status_code == 200


REFUSALS = {
    "logout-token-audience": lambda p, k: k.sign(logout_claims(p, aud="another-app")),
    "logout-token-issuer": lambda p, k: k.sign(logout_claims(p, iss="https://evil.example")),
    "logout-token-nonce": lambda p, k: k.sign(logout_claims(p, nonce="n-1")),
    "logout-token-event": lambda p, k: k.sign(logout_claims(p, events={})),
    "logout-token-stale": lambda p, k: k.sign(logout_claims(p, iat=now() - MAX_AGE_SECONDS - 90)),
    "logout-token-invalid": lambda p, k: k.sign(
        {c: v for c, v in logout_claims(p).items() if c != "jti"}
    ),
    "logout-token-no-subject": lambda p, k: k.sign(
        {c: v for c, v in logout_claims(p).items() if c != "sub"}
    ),
    "logout-token-algorithm": lambda p, k: unsigned_token(logout_claims(p)),
    "logout-token-unknown-key": lambda p, k: SigningKey("never-published").sign(logout_claims(p)),
    "logout-token-malformed": lambda p, k: "not-a-token",
}


@pytest.mark.parametrize("reason", list(REFUSALS))
def test_a_bad_logout_token_is_refused_and_nobody_is_signed_out(
    reason, client, ann, oidc_provider, caplog
):
    token = REFUSALS[reason](oidc_provider, oidc_provider.harness_key)
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = deliver(token)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}
    [record] = [r for r in caplog.records if r.getMessage() == "sso back-channel logout refused"]
    assert record.reason == reason
    assert client.get("/dashboard").status_code == 200


def test_an_id_token_is_not_a_logout_token(client, ann, oidc_provider):
    """An ID token has a nonce and no logout event."""
    id_token = oidc_provider.harness_key.sign(
        {**logout_claims(oidc_provider, nonce="abc", exp=now() + 300), "events": None}
    )
    assert deliver(id_token).status_code == 400


# --- permission matrix: the endpoint is for the provider; the token decides -------------


@pytest.mark.parametrize("persona", [None, "requester", "admin"])
def test_matrix_only_post_with_a_token_and_never_with_sso_off(persona, personas, settings):
    client = Client(enforce_csrf_checks=True)
    if persona:
        client.force_login(getattr(personas, persona))
    settings.OIDC_ISSUER = ""
    assert client.post(URL, {"logout_token": "x"}).status_code == 404
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # configured; the token is not even a JWT
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    assert client.get(URL).status_code == 405
    assert client.post(URL, {}).status_code == 400
