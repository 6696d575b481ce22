"""Admins manage users in the portal: permission matrix and behaviour."""

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase 7"


def actions(personas):
    target = personas.outsider.pk
    return {
        "list": ("get", "/settings/users", None),
        "search": ("get", "/settings/users?q=agent", None),
        "create form": ("get", "/settings/users/new", None),
        "create": (
            "post",
            "/settings/users/new",
            {
                "email": "new@example.com",
                "full_name": "New Person",
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
        ),
        "edit form": ("get", f"/settings/users/{target}", None),
        "edit": ("post", f"/settings/users/{target}", {"full_name": "Renamed", "is_active": "on"}),
        "reset password": (
            "post",
            f"/settings/users/{target}/password",
            {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        ),
        "reset password by GET": ("get", f"/settings/users/{target}/password", None),
    }


# persona → action → status. Non-admins get 403; anonymous visitors go to login.
EXPECTED = {
    "admin": {
        "list": 200,
        "search": 200,
        "create form": 200,
        "create": 302,
        "edit form": 200,
        "edit": 302,
        "reset password": 302,
        "reset password by GET": 405,
    },
    **{
        persona: {
            "list": 403,
            "search": 403,
            "create form": 403,
            "create": 403,
            "edit form": 403,
            "edit": 403,
            "reset password": 403,
            "reset password by GET": 403,
        }
        for persona in ["requester", "agent", "lead", "spoc", "outsider"]
    },
    "anonymous": {
        "list": 302,
        "search": 302,
        "create form": 302,
        "create": 302,
        "edit form": 302,
        "edit": 302,
        "reset password": 302,
        "reset password by GET": 302,
    },
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_user_management_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    got = {}
    for name, (method, url, data) in actions(personas).items():
        client = client_for(user)
        got[name] = getattr(client, method)(url, data or {}).status_code
    assert got == EXPECTED[persona]
    if persona != "admin":
        assert not User.objects.filter(email="new@example.com").exists()
        personas.outsider.refresh_from_db()
        assert personas.outsider.full_name != "Renamed"
        assert personas.outsider.check_password(PASSWORD)


def test_admin_creates_a_user_who_can_then_sign_in(client_for, personas):
    client_for(personas.admin).post(
        "/settings/users/new",
        {
            "email": " New@Example.com",
            "full_name": "New Person",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert (
        Client().post("/login", {"email": "new@example.com", "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_duplicate_email_is_refused(client_for, personas):
    response = client_for(personas.admin).post(
        "/settings/users/new",
        {
            "email": "AGENT@example.com",
            "full_name": "Twin",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_deactivating_a_user_ends_their_sessions_at_once(client_for, personas):
    victim = Client()
    victim.post("/login", {"email": "outsider@example.com", "password": PASSWORD})
    assert victim.get("/dashboard").status_code == 200
    client_for(personas.admin).post(
        f"/settings/users/{personas.outsider.pk}", {"full_name": "Outsider Persona"}
    )
    assert victim.get("/dashboard").status_code == 302
    assert not personas.outsider.sessions.exists()


def test_admin_password_reset_ends_the_users_sessions(client_for, personas):
    victim = Client()
    victim.post("/login", {"email": "outsider@example.com", "password": PASSWORD})
    client_for(personas.admin).post(
        f"/settings/users/{personas.outsider.pk}/password",
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert victim.get("/dashboard").status_code == 302


def test_admin_cannot_remove_own_admin_rights(client_for, personas):
    response = client_for(personas.admin).post(
        f"/settings/users/{personas.admin.pk}", {"full_name": "Admin", "is_active": "on"}
    )
    assert response.status_code == 400
    personas.admin.refresh_from_db()
    assert personas.admin.is_staff


def test_granting_admin_opens_the_users_page(client_for, personas):
    client_for(personas.admin).post(
        f"/settings/users/{personas.agent.pk}",
        {"full_name": "Agent Persona", "is_active": "on", "is_staff": "on"},
    )
    assert client_for(personas.agent).get("/settings/users").status_code == 200


def test_user_list_query_count_does_not_grow_with_users(
    client_for, personas, django_assert_num_queries
):
    client = client_for(personas.admin)
    client.get("/settings/users")  # warm the session
    for i in range(30):
        User.objects.create_user(f"bulk{i}@example.com", None, full_name=f"Bulk {i}")
    # the session with its user (one statement), count, page of users (roles and the bell
    # from the cache, page views written once a minute); the idle-timeout session save is
    # skipped within the minute.
    with django_assert_num_queries(3):
        response = client.get("/settings/users")
    assert response.status_code == 200
    assert "Bulk 29" in response.content.decode()


def test_permission_denied_is_logged(client_for, personas, caplog):
    caplog.set_level("WARNING", logger="portal.security")
    client_for(personas.requester).get("/settings/users")
    assert any(r.getMessage() == "permission denied" for r in caplog.records)
