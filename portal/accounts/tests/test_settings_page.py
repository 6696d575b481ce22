"""The user's own settings: name and password; other sessions end on a password change."""

import pytest
from django.conf import settings
from django.test import Client

from portal.accounts.models import UserSession
from portal.accounts.sessions import sessions_end_for_user
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def signed_in(email: str) -> Client:
    client = Client()
    assert client.post("/login", {"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_user_changes_own_name(client_for, personas):
    client = client_for(personas.requester)
    response = client.post("/settings", {"action": "profile", "full_name": "Rita Requester"})
    assert response.status_code == 302
    personas.requester.refresh_from_db()
    assert personas.requester.full_name == "Rita Requester"


def test_blank_name_is_refused_with_a_message(client_for, personas):
    response = client_for(personas.requester).post(
        "/settings", {"action": "profile", "full_name": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_password_change_needs_the_current_password(client_for, personas):
    response = client_for(personas.requester).post(
        "/settings",
        {
            "action": "password",
            "old_password": "wrong",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "Your current password is not correct." in response.content.decode()
    personas.requester.refresh_from_db()
    assert personas.requester.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "too short"),
        ("x" * 129, "at most 128 characters"),
        ("12345678901", "entirely numeric"),
        ("password123", "too common"),
    ],
)
def test_weak_or_overlong_new_passwords_are_refused(client_for, personas, password, message):
    response = client_for(personas.requester).post(
        "/settings",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": password,
            "new_password_again": password,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_password_change_keeps_this_session_and_ends_the_others(personas):
    here, elsewhere = signed_in("requester@example.com"), signed_in("requester@example.com")
    response = here.post(
        "/settings",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    personas.requester.refresh_from_db()
    assert personas.requester.check_password(NEW_PASSWORD)
    # This session got a new key with the new hash; its row followed, so it is still one
    # of the user's sessions (ended with the others) and its user is read with it.
    key = here.cookies[settings.SESSION_COOKIE_NAME].value
    assert UserSession.objects.filter(session_key=key, user=personas.requester).exists()
    assert sessions_end_for_user(personas.requester) == 1
    assert here.get("/dashboard").status_code == 302


def test_signing_in_over_another_accounts_session_records_the_new_one(personas):
    """Django flushes the other account's session at sign-in: the new session is recorded
    all the same, so ending the user's sessions ends it."""
    client = signed_in("requester@example.com")
    assert (
        client.post("/login", {"email": "agent@example.com", "password": PASSWORD}).status_code
        == 302
    )
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert UserSession.objects.filter(session_key=key, user=personas.agent).exists()
    assert client.get("/dashboard").wsgi_request.user == personas.agent
    assert sessions_end_for_user(personas.agent) == 1
    assert client.get("/dashboard").status_code == 302


def test_unknown_settings_action_is_a_400(client_for, personas):
    assert client_for(personas.requester).post("/settings", {"action": "x"}).status_code == 400
