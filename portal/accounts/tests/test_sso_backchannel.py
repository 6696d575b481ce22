"""Back-Channel Logout (OpenID Connect Back-Channel Logout 1.0) against the loopback
provider: a logout token signed by a key the provider publishes ends the person's
sessions; every other token is refused with 400 and its reason on the security log."""

import datetime as dt
import logging
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from portal.accounts.models import LogoutTokenSeen, UserSession
from portal.accounts.sso.backchannel import LOGOUT_EVENT, MAX_AGE_SECONDS
from portal.accounts.sso.services import logout_token_record, logout_tokens_prune
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
    # The token names a sid too; the provider's ID tokens carried none, so no session
    # can be told apart from the others and all of hers end.
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
        {c: v for c, v in logout_claims(p).items() if c not in ("sub", "sid")}
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


# --- sessions named by the provider's session id (`sid`) ----------------------------------


@pytest.fixture
def ann_twice(client, oidc_provider):
    """Ann signed in through the provider twice, each time with its own provider session."""
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    browsers = {"sid-laptop": client, "sid-phone": Client()}
    for sid, browser in browsers.items():
        oidc_provider.forge = lambda c, h, sid=sid: oidc_provider.harness_key.sign(
            {**c, "sid": sid}
        )
        assert sign_in(browser, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    oidc_provider.forge = None
    return signed_in_user(client), browsers


def test_the_provider_session_id_is_recorded_at_sign_in(ann_twice):
    user, _ = ann_twice
    assert sorted(UserSession.objects.filter(user=user).values_list("oidc_sid", flat=True)) == [
        "sid-laptop",
        "sid-phone",
    ]


def test_a_token_with_only_a_sid_ends_only_that_session(ann_twice, oidc_provider):
    _, browsers = ann_twice
    claims = logout_claims(oidc_provider, sid="sid-laptop")
    del claims["sub"]
    assert deliver(oidc_provider.harness_key.sign(claims)).status_code == 200
    assert browsers["sid-laptop"].get("/dashboard").status_code == 302
    assert browsers["sid-phone"].get("/dashboard").status_code == 200


def test_a_sid_with_another_persons_subject_ends_nothing(ann_twice, oidc_provider, personas):
    _, browsers = ann_twice
    oidc_provider.set_user("bob-sub", **employee("bob@example.com"))
    assert sign_in(Client(), oidc_provider, "bob-sub")["Location"] == "/dashboard"
    token = oidc_provider.harness_key.sign(
        logout_claims(oidc_provider, sub="bob-sub", sid="sid-laptop")
    )
    assert deliver(token).status_code == 200
    assert browsers["sid-laptop"].get("/dashboard").status_code == 200


def test_a_password_session_has_no_sid_and_a_sid_token_leaves_it(client, personas, oidc_provider):
    client.post("/login", {"email": personas.requester.email, "password": PASSWORD})
    assert UserSession.objects.get(user=personas.requester).oidc_sid == ""
    claims = logout_claims(oidc_provider, sid="")
    assert deliver(oidc_provider.harness_key.sign(claims)).status_code == 400  # empty sid
    assert client.get("/dashboard").status_code == 200


# --- replays: a jti is acted on once --------------------------------------------------------


def test_a_replayed_logout_token_is_refused_and_ends_nothing(client, ann, oidc_provider, caplog):
    token = oidc_provider.harness_key.sign(logout_claims(oidc_provider))
    assert deliver(token).status_code == 200
    assert client.get("/dashboard").status_code == 302
    # Ann signs in again; the captured token must not sign her out a second time.
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        replay = deliver(token)
    assert replay.status_code == 400
    [record] = [r for r in caplog.records if r.getMessage() == "sso back-channel logout refused"]
    assert record.reason == "logout-token-replayed"
    assert client.get("/dashboard").status_code == 200


def test_a_jti_is_remembered_until_the_token_is_too_old_and_then_pruned(client, ann, oidc_provider):
    issued = now()
    claims = logout_claims(oidc_provider, iat=issued)
    assert deliver(oidc_provider.harness_key.sign(claims)).status_code == 200
    seen = LogoutTokenSeen.objects.get()
    assert seen.expires_at.timestamp() == issued + MAX_AGE_SECONDS
    assert claims["jti"] not in seen.key  # hashed with the issuer
    assert logout_tokens_prune() == 0  # not yet
    LogoutTokenSeen.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert logout_tokens_prune() == 1
    assert not LogoutTokenSeen.objects.exists()


def test_the_same_jti_from_two_deliveries_at_once_acts_once(ann, oidc_provider):
    claims = logout_claims(oidc_provider)
    seen = [
        logout_token_record(issuer=oidc_provider.issuer, jti=claims["jti"], until=timezone.now())
        for _ in range(2)
    ]
    assert seen == [True, False]


def test_a_sid_and_subject_end_that_session_and_keep_others_of_the_person(ann_twice, oidc_provider):
    _, browsers = ann_twice
    token = oidc_provider.harness_key.sign(logout_claims(oidc_provider, sid="sid-phone"))
    assert deliver(token).status_code == 200
    assert browsers["sid-phone"].get("/dashboard").status_code == 302
    assert browsers["sid-laptop"].get("/dashboard").status_code == 200
    # A sid the portal never saw ends nothing of hers: both remaining have known sids.
    token = oidc_provider.harness_key.sign(logout_claims(oidc_provider, sid="sid-unknown"))
    assert deliver(token).status_code == 200
    assert browsers["sid-laptop"].get("/dashboard").status_code == 200
