"""POST /auth/token: the login page's brute-force rules, shared counts, same answers."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from portal.accounts.forms import BAD_CREDENTIALS
from portal.api.tests.conftest import ApiClient, is_problem
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db


def _exchange(email: str, password: str, ip: str = "127.0.0.1", **extra):
    body = {"email": email, "password": password, **extra}
    return ApiClient(None).post("/auth/token", body, REMOTE_ADDR=ip)


def test_email_and_password_give_a_working_token_shown_once(personas):
    response = _exchange("Agent@Example.com", PASSWORD, name="laptop", expires_in_days=7)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith(body["prefix"]) and body["name"] == "laptop"
    assert body["expires_at"]
    assert response["Cache-Control"] == "no-store"
    me = ApiClient(body["token"]).get("/notifications/unread-count")
    assert me.status_code == 200


def test_unknown_email_wrong_password_and_inactive_user_get_the_same_answer(personas):
    personas.outsider.is_active = False
    personas.outsider.save(update_fields=["is_active"])
    answers = [
        _exchange("nobody@example.com", PASSWORD),
        _exchange("agent@example.com", "wrong password"),
        _exchange("outsider@example.com", PASSWORD),
    ]
    bodies = [is_problem(answer, 400) for answer in answers]
    assert all(body["detail"] == BAD_CREDENTIALS for body in bodies)
    assert len({(b["type"], b["title"], b["detail"]) for b in bodies}) == 1


def test_api_failures_lock_the_login_page_too(personas, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(2):
        is_problem(_exchange("agent@example.com", "wrong"), 400)
    locked = _exchange("agent@example.com", "wrong")
    body = is_problem(locked, 429)
    assert body["type"] == "urn:portal:problem:locked-out"
    assert int(locked["Retry-After"]) == settings.LOGIN_LOCKOUT
    # Even the right password is refused now, here and on the login page.
    is_problem(_exchange("agent@example.com", PASSWORD), 429)
    page = Client().post("/login", {"email": "agent@example.com", "password": PASSWORD})
    assert page.status_code == 429


def test_login_page_failures_lock_the_api_too(personas, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        Client().post("/login", {"email": "lead@example.com", "password": "wrong"})
    response = _exchange("lead@example.com", PASSWORD)
    is_problem(response, 429)
    assert response["Retry-After"].isdigit()


def test_a_good_exchange_clears_the_accounts_failures(personas, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(2):
        _exchange("spoc@example.com", "wrong")
    assert _exchange("spoc@example.com", PASSWORD).status_code == 201
    for _ in range(2):
        is_problem(_exchange("spoc@example.com", "wrong"), 400)


def test_the_exchange_refuses_unknown_fields_and_a_missing_body(personas):
    body = is_problem(_exchange("agent@example.com", PASSWORD, scope="admin"), 422)
    assert body["errors"] == [{"field": "body.scope", "message": "Extra inputs are not permitted"}]
    empty = is_problem(ApiClient(None).post("/auth/token", {}), 422)
    assert {e["field"] for e in empty["errors"]} == {"body.email", "body.password"}
    not_an_object = is_problem(ApiClient(None).post("/auth/token", []), 422)
    assert not_an_object["errors"][0]["field"] == "body"


def test_an_account_guessed_at_from_many_addresses_is_slowed_down_not_locked(personas, settings):
    settings.LOGIN_ACCOUNT_SLOWDOWN_AFTER = 3
    for n in range(3):
        is_problem(_exchange("agent@example.com", "wrong", ip=f"198.51.100.{n}"), 400)
    from portal.accounts.models import LoginThrottle

    LoginThrottle.objects.filter(key="account:agent@example.com").update(
        blocked_until=timezone.now() + dt.timedelta(seconds=30)
    )
    slowed = _exchange("agent@example.com", PASSWORD, ip="10.0.0.7")
    assert is_problem(slowed, 429)["type"] == "urn:portal:problem:slowed-down"
    assert int(slowed["Retry-After"]) in {29, 30}
    LoginThrottle.objects.filter(key="account:agent@example.com").update(blocked_until=None)
    assert _exchange("agent@example.com", PASSWORD, ip="10.0.0.7").status_code == 201
