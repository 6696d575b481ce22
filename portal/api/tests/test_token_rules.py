"""Tokens do not outlive the password, always expire, and are capped per person."""

import datetime as dt
import io

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.api import tokens
from portal.api.models import ApiToken
from portal.api.tests.conftest import ApiClient, is_problem
from portal.testing.concurrency import run_together
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a completely new passphrase 5"


def _two_working_tokens(user) -> list[ApiClient]:
    clients = [ApiClient(tokens.token_create(user=user, name=f"s{n}").secret) for n in range(2)]
    assert all(c.get("/notifications/unread-count").status_code == 200 for c in clients)
    return clients


def _all_refused(clients: list[ApiClient]) -> None:
    for client in clients:
        is_problem(client.get("/notifications/unread-count"), 401)


# --- a new password revokes every token ---------------------------------------------------


def test_changing_your_password_revokes_all_your_tokens(personas, client_for):
    clients = _two_working_tokens(personas.agent)
    other_persons = _two_working_tokens(personas.lead)
    response = client_for(personas.agent).post(
        "/settings",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "2 API tokens were revoked" in response.content.decode()
    _all_refused(clients)
    assert not ApiToken.objects.filter(user=personas.agent, revoked_at__isnull=True).exists()
    assert all(c.get("/notifications/unread-count").status_code == 200 for c in other_persons)


def test_the_settings_page_says_a_change_revokes_tokens_before_it_happens(personas, client_for):
    page = client_for(personas.agent).get("/settings").content.decode()
    effects = page[
        page.index('id="password-change-effects"') : page.index(
            "</p>", page.index('id="password-change-effects"')
        )
    ]
    assert "revokes all your" in effects and "API tokens" in effects


def test_a_password_reset_link_revokes_all_tokens(personas):
    clients = _two_working_tokens(personas.agent)
    browser = Client()
    uid = urlsafe_base64_encode(force_bytes(personas.agent.pk))
    token = default_token_generator.make_token(personas.agent)
    form = browser.get(f"/password-reset/{uid}/{token}")["Location"]
    assert "revokes all your API tokens" in browser.get(form).content.decode()
    response = browser.post(
        form, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302
    _all_refused(clients)


def test_an_admin_setting_a_password_revokes_all_the_users_tokens(personas, client_for):
    clients = _two_working_tokens(personas.agent)
    admin = client_for(personas.admin)
    assert (
        "API tokens are revoked"
        in admin.get(f"/settings/users/{personas.agent.pk}").content.decode()
    )
    response = admin.post(
        f"/settings/users/{personas.agent.pk}/password",
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    _all_refused(clients)


# --- every token expires ------------------------------------------------------------------


def test_a_token_made_without_a_lifetime_expires_in_90_days(personas):
    new = tokens.token_create(user=personas.agent, name="s")
    assert new.token.expires_at - new.token.created_at == dt.timedelta(days=90)


def test_the_page_offers_no_never_and_caps_at_api_token_max_days(personas, client_for, settings):
    settings.API_TOKEN_MAX_DAYS = 60
    client = client_for(personas.agent)
    page = client.get("/settings/tokens").content.decode()
    assert "Never" not in page and 'value="60"' in page and 'value="90"' not in page
    words = " ".join(page.split())
    assert "at most after 60 days" in words and "up to 10 working tokens" in words
    for refused in ("", "90", "365"):
        response = client.post("/settings/tokens", {"name": "x", "expires_in_days": refused})
        assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert (
        client.post("/settings/tokens", {"name": "x", "expires_in_days": "60"}).status_code == 201
    )


def test_the_exchange_refuses_no_expiry_and_more_than_the_maximum(personas, settings):
    settings.API_TOKEN_MAX_DAYS = 30
    anonymous = ApiClient(None)
    body = {"email": "agent@example.com", "password": PASSWORD}
    for days in (None, 31, 0):
        refused = anonymous.post("/auth/token", {**body, "expires_in_days": days})
        assert is_problem(refused, 422)["errors"][0]["field"].endswith("expires_in_days")
    assert not ApiToken.objects.exists()
    made = anonymous.post("/auth/token", body)
    assert made.status_code == 201
    expires = dt.datetime.fromisoformat(made.json()["expires_at"])
    assert dt.timedelta(days=29) < expires - timezone.now() <= dt.timedelta(days=30)


# --- at most API_TOKENS_PER_USER working tokens ------------------------------------------


def test_the_page_refuses_a_token_over_the_cap_with_409(personas, client_for, settings):
    settings.API_TOKENS_PER_USER = 3
    client = client_for(personas.agent)
    for n in range(3):
        assert (
            client.post("/settings/tokens", {"name": f"t{n}", "expires_in_days": "30"}).status_code
            == 201
        )
    refused = client.post("/settings/tokens", {"name": "one more", "expires_in_days": "30"})
    assert refused.status_code == 409
    assert "You already have 3 live tokens" in refused.content.decode()
    assert ApiToken.objects.filter(user=personas.agent).count() == 3


def test_the_exchange_refuses_a_token_over_the_cap_with_409(personas, settings):
    settings.API_TOKENS_PER_USER = 2
    anonymous = ApiClient(None)
    body = {"email": "agent@example.com", "password": PASSWORD}
    assert [anonymous.post("/auth/token", body).status_code for _ in range(2)] == [201, 201]
    refused = is_problem(anonymous.post("/auth/token", body), 409)
    assert refused["type"] == "urn:portal:problem:too-many-tokens"
    assert "You already have 2 live tokens" in refused["detail"]


def test_revoked_and_expired_tokens_free_their_place(personas, settings):
    settings.API_TOKENS_PER_USER = 2
    first = tokens.token_create(user=personas.agent, name="a")
    second = tokens.token_create(user=personas.agent, name="b")
    with pytest.raises(tokens.TooManyTokens):
        tokens.token_create(user=personas.agent, name="c")
    tokens.token_revoke(user=personas.agent, token_id=first.token.pk)
    tokens.token_create(user=personas.agent, name="c")
    ApiToken.objects.filter(pk=second.token.pk).update(expires_at=timezone.now())
    tokens.token_create(user=personas.agent, name="d")
    # Someone else's tokens never count against you.
    tokens.token_create(user=personas.lead, name="a")


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_cannot_mint_more_tokens_than_the_cap(personas, settings):
    settings.API_TOKENS_PER_USER = 3

    def mint(n: int) -> str:
        try:
            tokens.token_create(user=personas.agent, name=f"parallel {n}")
        except tokens.TooManyTokens:
            return "refused"
        return "made"

    results = run_together(mint, 8)
    assert results.count("made") == 3
    assert ApiToken.objects.filter(user=personas.agent).count() == 3


def test_a_password_set_on_the_django_admin_site_revokes_tokens_and_sessions(personas, client_for):
    clients = _two_working_tokens(personas.agent)
    elsewhere = client_for(personas.agent)
    response = client_for(personas.admin).post(
        f"/admin/accounts/user/{personas.agent.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    personas.agent.refresh_from_db()
    assert personas.agent.check_password(NEW_PASSWORD)
    _all_refused(clients)
    assert elsewhere.get("/settings").status_code == 302


def test_manage_py_changepassword_revokes_all_tokens_and_ends_sessions(
    personas, client_for, monkeypatch
):
    from django.contrib.auth.management.commands import changepassword
    from django.core.management import call_command

    clients = _two_working_tokens(personas.agent)
    page = client_for(personas.agent)
    assert page.get("/dashboard").status_code == 200
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", personas.agent.email, stdout=io.StringIO())
    _all_refused(clients)
    assert page.get("/dashboard").status_code == 302  # signed out
    personas.agent.refresh_from_db()
    assert personas.agent.check_password(NEW_PASSWORD)
