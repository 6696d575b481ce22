"""The user's own settings: name and password; other sessions end on a password change."""

import pytest
from django.test import Client

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


def test_unknown_settings_action_is_a_400(client_for, personas):
    assert client_for(personas.requester).post("/settings", {"action": "x"}).status_code == 400
