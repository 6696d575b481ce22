"""Personal access tokens: stored hashed, expiry, revocation, inactive users, last use,
and the /settings/tokens pages."""

import datetime as dt
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from portal.accounts import services as account_services
from portal.api import tokens
from portal.api.models import ApiToken
from portal.api.tests.conftest import ApiClient, is_problem

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def test_only_the_digest_and_a_short_prefix_are_stored(personas):
    new = tokens.token_create(user=personas.agent, name="script")
    row = ApiToken.objects.get(pk=new.token.pk)
    assert row.digest == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret.startswith("ptk_") and len(new.secret) > 40
    assert new.secret.startswith(row.prefix) and len(row.prefix) == 10
    stored = " ".join(str(value) for value in vars(row).values())
    assert new.secret not in stored


def test_a_token_acts_as_its_user(personas, ticket):
    secret = tokens.token_create(user=personas.requester, name="s").secret
    response = ApiClient(secret).get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    assert response.json()["requester"]["email"] == personas.requester.email


def test_an_expired_token_stops_working(personas, ticket):
    new = tokens.token_create(user=personas.agent, name="s", expires_in_days=1)
    client = ApiClient(new.secret)
    assert client.get("/tickets").status_code == 200
    ApiToken.objects.filter(pk=new.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    is_problem(client.get("/tickets"), 401)


def test_a_revoked_token_stops_working_at_once(personas):
    new = tokens.token_create(user=personas.agent, name="s")
    client = ApiClient(new.secret)
    assert client.get("/tickets").status_code == 200
    assert tokens.token_revoke(user=personas.agent, token_id=new.token.pk)
    is_problem(client.get("/tickets"), 401)


def test_an_inactive_users_tokens_stop_working(personas):
    client = ApiClient(tokens.token_create(user=personas.agent, name="s").secret)
    assert client.get("/tickets").status_code == 200
    account_services.user_update(
        user=personas.agent, actor=personas.admin, full_name="Agent", is_active=False
    )
    is_problem(client.get("/tickets"), 401)


def test_last_use_is_recorded_at_most_once_a_minute(personas, django_assert_num_queries):
    new = tokens.token_create(user=personas.outsider, name="s")
    client = ApiClient(new.secret)
    assert new.token.last_used_at is None
    client.get("/notifications/unread-count")
    first = ApiToken.objects.get(pk=new.token.pk).last_used_at
    assert first is not None
    # Within the minute: no write. Queries: token+user, rate-limit upsert (the unread
    # count from the cache; and the analytics page-view upsert while /api/ is counted).
    with django_assert_num_queries(2):
        client.get("/notifications/unread-count")
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at == first
    earlier = first - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=new.token.pk).update(last_used_at=earlier)
    client.get("/notifications/unread-count")
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at > first


def test_bearer_calls_create_no_session(personas):
    client = ApiClient(tokens.token_create(user=personas.agent, name="s").secret)
    response = client.get("/tickets")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


# --- the settings pages -------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_signed_in_persona_manages_their_own_tokens(persona, personas, client_for):
    user = getattr(personas, persona)
    client = client_for(user)
    assert client.get("/settings/tokens").status_code == 200
    created = client.post("/settings/tokens", {"name": "nightly export", "expires_in_days": "30"})
    assert created.status_code == 201
    token = ApiToken.objects.get(user=user)
    secret = created.context["created"].secret
    assert secret in created.content.decode()
    assert token.expires_at - timezone.now() > dt.timedelta(days=29)
    # Shown once: the list afterwards has the name and prefix, never the secret.
    listing = client.get("/settings/tokens").content.decode()
    assert "nightly export" in listing and token.prefix in listing and secret not in listing
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    is_problem(ApiClient(secret).get("/tickets"), 401)


def test_nobody_can_revoke_someone_elses_token(personas, client_for):
    new = tokens.token_create(user=personas.agent, name="s")
    for persona in ("requester", "admin", "outsider"):
        response = client_for(getattr(personas, persona)).post(
            f"/settings/tokens/{new.token.pk}/revoke"
        )
        assert response.status_code == 404
    assert ApiClient(new.secret).get("/tickets").status_code == 200


def test_token_pages_need_sign_in_post_and_csrf(personas, client_for):
    new = tokens.token_create(user=personas.agent, name="s")
    anonymous = Client()
    assert anonymous.get("/settings/tokens")["Location"].startswith("/login")
    assert anonymous.post(f"/settings/tokens/{new.token.pk}/revoke").status_code == 302
    signed_in = client_for(personas.agent)
    assert signed_in.get(f"/settings/tokens/{new.token.pk}/revoke").status_code == 405
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(personas.agent)
    assert csrf_checked.post(f"/settings/tokens/{new.token.pk}/revoke").status_code == 403
    assert csrf_checked.post("/settings/tokens", {"name": "x"}).status_code == 403
    assert ApiToken.objects.filter(user=personas.agent, revoked_at__isnull=True).count() == 1


def test_creating_a_token_without_a_name_is_a_form_error(personas, client_for):
    response = client_for(personas.agent).post("/settings/tokens", {"name": "  "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
