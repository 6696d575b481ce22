"""Company sign-in against a real OpenID provider on loopback (portal/testing/oidc.py):
the code flow with PKCE, who gets in, and every way a sign-in is refused."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY

from portal.accounts.models import SsoIdentity, User, UserSession
from portal.accounts.sso.views import CANCELLED, REPLAYED, UNAVAILABLE
from portal.testing.oidc import SigningKey, employee, hmac_token, now, unsigned_token

pytestmark = pytest.mark.django_db


def start(client, next_url=None):
    """Press "Sign in with …": the portal redirects to the provider's sign-in page."""
    url = "/oidc/authenticate/" + (f"?next={next_url}" if next_url else "")
    response = client.post(url)
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def back_to_portal(client, location):
    parts = urlsplit(location)
    return client.get(parts.path, parse_qs(parts.query))


def sign_in(client, provider, sub, next_url=None):
    """The whole round trip: portal → provider (signs in as `sub`) → portal callback."""
    return back_to_portal(client, provider.sign_in(start(client, next_url), sub))


def signed_in_user(client):
    return User.objects.filter(pk=client.session.get(SESSION_KEY)).first()


def messages_of(client):
    """The sign-in page the browser lands on, with the message waiting for it."""
    return client.get("/login").content.decode()


# --- the happy path ---------------------------------------------------------------------


def test_the_start_asks_for_code_with_pkce_state_and_nonce(client, oidc_provider):
    params = parse_qs(urlsplit(start(client)).query)
    assert params["response_type"] == ["code"]
    assert params["client_id"] == ["portal-test-client"]
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) == 43
    assert params["state"] and params["nonce"]
    assert params["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert "openid" in params["scope"][0].split()


def test_first_sign_in_creates_a_requester_and_lands_on_the_dashboard(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    response = sign_in(client, oidc_provider, "ann-sub")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"
    user = signed_in_user(client)
    assert user.email == "ann@example.com"
    assert user.full_name == "Ann Employee"
    assert not user.is_staff and not user.has_usable_password()
    identity = SsoIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (oidc_provider.issuer, "ann-sub")
    assert client.session[BACKEND_SESSION_KEY] == "portal.accounts.sso.backend.SsoBackend"
    assert UserSession.objects.filter(user=user).count() == 1
    assert client.get("/dashboard").status_code == 200


def test_next_is_kept_through_the_round_trip_but_only_on_this_site(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub", "/tickets")["Location"] == "/tickets"
    client.logout()
    response = sign_in(client, oidc_provider, "ann-sub", "//evil.example/")
    assert response["Location"] == "/dashboard"


def test_the_subject_decides_not_the_email(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    sign_in(client, oidc_provider, "ann-sub")
    ann = signed_in_user(client)
    client.logout()
    # Ann's address changes at the provider: still Ann, no new account.
    oidc_provider.set_user("ann-sub", **employee("ann.smith@example.com"))
    sign_in(client, oidc_provider, "ann-sub")
    assert signed_in_user(client) == ann
    assert User.objects.count() == 1


def test_a_reused_address_does_not_open_the_previous_owners_account(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    sign_in(client, oidc_provider, "ann-sub")
    client.logout()
    # Another person at the provider now has ann@: a different subject.
    oidc_provider.set_user("new-sub", **employee("ann@example.com"))
    response = sign_in(client, oidc_provider, "new-sub")
    assert response["Location"] == "/login"
    assert signed_in_user(client) is None
    assert "bound to another company account" in messages_of(client)


def test_an_existing_portal_user_is_bound_on_first_company_sign_in(client, oidc_provider, personas):
    oidc_provider.set_user("req-sub", **employee("requester@example.com"))
    sign_in(client, oidc_provider, "req-sub")
    assert signed_in_user(client) == personas.requester
    assert SsoIdentity.objects.get(subject="req-sub").user == personas.requester


def test_entra_object_id_is_the_subject_when_present(client, oidc_provider):
    oidc_provider.set_user("pairwise-sub", **employee("ann@example.com", oid="object-id-1"))
    sign_in(client, oidc_provider, "pairwise-sub")
    assert SsoIdentity.objects.get().subject == "object-id-1"


def test_roles_never_come_from_claims(client, oidc_provider):
    oidc_provider.set_user(
        "ann-sub", **employee("ann@example.com", roles=["admin"], groups=["portal-admins"])
    )
    sign_in(client, oidc_provider, "ann-sub")
    user = signed_in_user(client)
    assert not user.is_staff and not user.is_superuser


def test_sign_in_is_on_the_security_log(client, oidc_provider, caplog):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    with caplog.at_level(logging.INFO, logger="portal.security"):
        sign_in(client, oidc_provider, "ann-sub")
    events = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "sso user created" in events and "login ok" in events


# --- who is refused -------------------------------------------------------------------


def refused(client, response, message_part):
    assert response.status_code == 302 and response["Location"] == "/login"
    assert signed_in_user(client) is None
    assert message_part in messages_of(client)


def test_unverified_email_is_refused(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", email_verified=False))
    refused(client, sign_in(client, oidc_provider, "ann-sub"), "not verified")
    assert not User.objects.exists()


def test_email_domain_outside_the_allowed_ones_is_refused(client, oidc_provider):
    oidc_provider.set_user("eve-sub", **employee("eve@elsewhere.example"))
    refused(client, sign_in(client, oidc_provider, "eve-sub"), "domain cannot sign in")
    assert not User.objects.exists() and not SsoIdentity.objects.exists()


def test_google_workspace_domain_is_pinned(client, oidc_provider, settings):
    settings.OIDC_GOOGLE_HOSTED_DOMAIN = "example.com"
    oidc_provider.set_user("gmail-sub", **employee("ann@example.com"))  # no hd: a consumer account
    refused(client, sign_in(client, oidc_provider, "gmail-sub"), "not one of your organisation")
    oidc_provider.set_user("ws-sub", **employee("bob@example.com", hd="example.com"))
    assert sign_in(client, oidc_provider, "ws-sub")["Location"] == "/dashboard"


def test_entra_tenant_is_pinned(client, oidc_provider, settings, caplog):
    settings.OIDC_ENTRA_TENANT_ID = "tenant-a"
    oidc_provider.set_user("ann-sub", **employee("ann@example.com", tid="tenant-b"))
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        refused(client, sign_in(client, oidc_provider, "ann-sub"), "another organisation")
    assert any(getattr(r, "reason", "") == "tenant-mismatch" for r in caplog.records)
    # Entra vouches for email with xms_edov rather than email_verified.
    oidc_provider.set_user(
        "bob-sub", email="bob@example.com", name="Bob", tid="tenant-a", xms_edov=True
    )
    assert sign_in(client, oidc_provider, "bob-sub")["Location"] == "/dashboard"


def test_disabled_portal_user_is_refused(client, oidc_provider, personas):
    personas.requester.is_active = False
    personas.requester.save()
    oidc_provider.set_user("req-sub", **employee("requester@example.com"))
    refused(client, sign_in(client, oidc_provider, "req-sub"), "account is disabled")
    assert not SsoIdentity.objects.exists()  # nothing half-written


def test_cancelled_at_the_provider_says_so(client, oidc_provider):
    location = oidc_provider.deny(start(client))
    refused(client, back_to_portal(client, location), CANCELLED)


def test_replayed_state_is_refused(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    callback = oidc_provider.sign_in(start(client), "ann-sub")
    back_to_portal(client, callback)
    client.logout()
    refused(client, back_to_portal(client, callback), REPLAYED)


def test_a_callback_this_browser_did_not_start_is_refused(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    from django.test import Client

    victim = Client()
    # The attacker's own code and state, handed to someone else's browser (login CSRF).
    callback = oidc_provider.sign_in(start(client), "ann-sub")
    victim.get("/login")
    refused(victim, back_to_portal(victim, callback), REPLAYED)


# --- tokens the portal must not accept ----------------------------------------------------


@pytest.fixture
def forged(oidc_provider, client, caplog):
    """Sign in with the ID token replaced by `forge(claims, header)`; check the refusal
    and its reason on the security log."""

    def attempt(forge, reason):
        oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
        oidc_provider.forge = forge
        with caplog.at_level(logging.WARNING, logger="portal.security"):
            response = sign_in(client, oidc_provider, "ann-sub")
        assert response["Location"] == "/login"
        assert signed_in_user(client) is None and not User.objects.exists()
        reasons = [getattr(r, "reason", None) for r in caplog.records if r.msg == "sso refused"]
        assert reasons == [reason]

    return attempt


def test_control_a_token_signed_by_a_published_key_is_accepted(client, oidc_provider):
    """The forging layer itself changes nothing: the refusals below are the claims'."""
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    key = oidc_provider.harness_key
    oidc_provider.forge = lambda c, h: key.sign(c)
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"


def test_a_token_for_another_client_is_refused(forged, oidc_provider):
    key = oidc_provider.harness_key
    forged(lambda c, h: key.sign({**c, "aud": "another-app"}), "id-token-audience")


def test_an_expired_token_is_refused(forged, oidc_provider):
    key = oidc_provider.harness_key
    expired = {"iat": now() - 7200, "exp": now() - 3600}
    forged(lambda c, h: key.sign({**c, **expired}), "id-token-expired")


def test_a_token_from_another_issuer_is_refused(forged, oidc_provider):
    key = oidc_provider.harness_key
    forged(lambda c, h: key.sign({**c, "iss": "https://evil.example"}), "id-token-issuer")


def test_a_replayed_nonce_is_refused(forged, oidc_provider):
    key = oidc_provider.harness_key
    forged(lambda c, h: key.sign({**c, "nonce": "an-earlier-nonce"}), "id-token-nonce")


def test_an_unsigned_token_is_refused(forged, oidc_provider):
    forged(lambda c, h: unsigned_token(c), "id-token-algorithm")


def test_hs256_signed_with_the_public_key_is_refused(forged, oidc_provider):
    key = oidc_provider.harness_key
    forged(lambda c, h: hmac_token(c, key.public_pem(), kid=key.kid), "id-token-algorithm")


def test_a_key_the_provider_never_published_is_refused(forged, oidc_provider):
    stranger = SigningKey("stranger")
    forged(lambda c, h: stranger.sign(c), "id-token-unknown-key")


def test_a_rotated_key_is_fetched_once_and_accepted(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    client.logout()
    fetched = oidc_provider.jwks_requests
    rotated = SigningKey("rotated")
    oidc_provider.published.append(rotated)
    oidc_provider.forge = lambda c, h: rotated.sign(c)
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    assert oidc_provider.jwks_requests == fetched + 1
    client.logout()
    # Known now: no further fetch.
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    assert oidc_provider.jwks_requests == fetched + 1


def test_discovery_is_fetched_once_and_cached(client, oidc_provider):
    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    sign_in(client, oidc_provider, "ann-sub")
    client.logout()
    sign_in(client, oidc_provider, "ann-sub")
    assert oidc_provider.discovery_requests == 1


def test_a_password_post_with_a_code_in_the_url_never_reaches_the_provider(
    client, oidc_provider, personas
):
    response = client.post(
        "/login?code=stolen&state=x", {"email": "requester@example.com", "password": "wrong"}
    )
    assert response.status_code == 400
    assert oidc_provider.discovery_requests == 0


def test_a_provider_whose_sign_in_page_is_on_another_origin_is_refused(
    client, oidc_provider, settings
):
    """The page's CSP lets the form lead only to the issuer's origin."""
    from django.core.cache import cache

    start(client)  # discovery cached
    key = f"sso:discovery:{settings.OIDC_ISSUER}"
    cache.set(key, {**cache.get(key), "authorization_endpoint": "https://elsewhere.example/a"})
    response = client.post("/oidc/authenticate/")
    assert response["Location"] == "/login"
    assert UNAVAILABLE in messages_of(client)
