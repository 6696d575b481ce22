"""Signing in and out: messages, redirects, sessions."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from portal.accounts.forms import BAD_CREDENTIALS
from portal.accounts.models import UserSession
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD, next_url=None):
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data)


@pytest.mark.smoke
def test_good_credentials_sign_in_and_land_on_dashboard(client, personas):
    response = login(client, "requester@example.com")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_email_is_matched_without_regard_to_case_or_spaces(client, personas):
    response = login(client, "  REQUESTER@Example.COM ")
    assert response.status_code == 302


def test_unknown_email_and_wrong_password_get_the_same_answer(client, personas):
    unknown = login(client, "nobody@example.com")
    wrong = login(client, "requester@example.com", "not the password")
    assert unknown.status_code == wrong.status_code == 400
    assert BAD_CREDENTIALS in unknown.content.decode()
    assert BAD_CREDENTIALS in wrong.content.decode()
    assert unknown.content.decode().count("form-errors") == wrong.content.decode().count(
        "form-errors"
    )


def test_inactive_user_cannot_sign_in(client, personas):
    personas.requester.is_active = False
    personas.requester.save()
    response = login(client, "requester@example.com")
    assert response.status_code == 400
    assert BAD_CREDENTIALS in response.content.decode()


def test_session_key_changes_at_sign_in(client, personas):
    client.get("/login")
    client.session.save()
    before = client.session.session_key
    login(client, "requester@example.com")
    assert client.session.session_key != before


def test_session_cookie_is_httponly_and_samesite_lax(client, personas):
    response = login(client, "requester@example.com")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    # The cookie is a random key; the user lives server-side.
    assert "requester" not in cookie.value
    assert Session.objects.filter(session_key=cookie.value).exists()


def test_logout_deletes_the_server_side_session(client, personas):
    login(client, "requester@example.com")
    key = client.session.session_key
    response = client.post("/logout")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    assert client.get("/dashboard").status_code == 302


def test_logout_by_get_only_asks_for_confirmation(client_for, personas):
    client = client_for(personas.requester)
    response = client.get("/logout")
    assert response.status_code == 200
    assert client.get("/dashboard").status_code == 200


def test_long_unicode_passphrase_works_untruncated(client, db):
    from portal.accounts.models import User

    passphrase = "  correct horse ☃ батарея staple " * 3 + "ü" * 20  # ~120 characters
    assert 64 <= len(passphrase) <= 128
    User.objects.create_user("pass@example.com", passphrase, full_name="Pass Phrase")
    assert login(client, "pass@example.com", passphrase[:-1]).status_code == 400
    assert login(client, "pass@example.com", passphrase.strip()).status_code == 400
    assert login(client, "pass@example.com", passphrase).status_code == 302


def test_idle_timeout_sets_session_expiry(client, personas, settings):
    login(client, "requester@example.com")
    client.get("/dashboard")
    assert client.session.get_expiry_age() <= settings.SESSION_IDLE_TIMEOUT
    assert client.session.get_expiry_age() > settings.SESSION_IDLE_TIMEOUT - 60


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "http:/evil.example",
        "\\\\evil.example",
        "/\n/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_next_never_leaves_the_site(client, personas, next_url):
    response = login(client, "requester@example.com", next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"


def test_next_follows_a_same_site_path(client, personas):
    response = login(client, "requester@example.com", next_url="/settings?tab=password")
    assert response["Location"] == "/settings?tab=password"


def test_next_is_carried_from_the_login_page_into_the_form(client):
    html = client.get("/login?next=/settings").content.decode()
    assert 'name="next" value="/settings"' in html
    html = client.get("/login?next=//evil.example").content.decode()
    assert "evil.example" not in html


def test_login_form_is_protected_by_csrf(personas):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login", {"email": "requester@example.com", "password": PASSWORD})
    assert response.status_code == 403


def test_security_log_records_success_and_failure(client, personas, caplog):
    caplog.set_level("INFO", logger="portal.security")
    login(client, "requester@example.com", "wrong password")
    login(client, "requester@example.com")
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "login failed" in messages
    assert "login ok" in messages
