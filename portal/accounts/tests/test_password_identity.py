"""New passwords may not be mostly the user's handle or name, on every path that sets one."""

import json

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.accounts.models import User
from portal.accounts.validators import NotMadeOfIdentityValidator
from portal.api import tokens
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

MESSAGE = "mostly your name or email address"


@pytest.mark.parametrize(
    ("email", "full_name", "password"),
    [
        ("r1@example.com", "R One", "r1r1r1r1"),
        ("r1@example.com", "R One", "R1R1r1r1!"),
        ("ann.smith@example.com", "Ann Smith", "annsmith1"),
        ("ann.smith@example.com", "Ann Smith", "smith-ann-smith"),
        ("jo@example.com", "Jo Li", "jojojo12"),
        ("x9@example.com", "Ann Smith", "Ann Smith 2026"),
    ],
)
def test_passwords_made_of_the_handle_or_name_are_refused(email, full_name, password):
    user = User(email=email, full_name=full_name)
    with pytest.raises(ValidationError, match=MESSAGE):
        NotMadeOfIdentityValidator().validate(password, user)


@pytest.mark.parametrize(
    ("email", "full_name", "password"),
    [
        ("r1@example.com", "R One", "r1 and a long passphrase"),
        ("ann.smith@example.com", "Ann Smith", "correct horse battery staple"),
        ("jo@example.com", "Jo Li", "jolly lithium kettle"),
    ],
)
def test_passwords_that_only_touch_the_identity_are_accepted(email, full_name, password):
    NotMadeOfIdentityValidator().validate(password, User(email=email, full_name=full_name))


@pytest.fixture
def r1(db):
    return User.objects.create_user("r1@example.com", PASSWORD, full_name="R One")


def test_changing_your_own_password_to_your_handle_is_refused(client_for, r1):
    response = client_for(r1).post(
        "/settings",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": "r1r1r1r1",
            "new_password_again": "r1r1r1r1",
        },
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    r1.refresh_from_db()
    assert r1.check_password(PASSWORD)


def test_a_reset_link_refuses_the_handle_as_the_new_password(r1):
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(r1.pk))
    confirm = client.get(f"/password-reset/{uid}/{default_token_generator.make_token(r1)}")
    response = client.post(
        confirm["Location"], {"new_password": "r1r1r1r1", "new_password_again": "r1r1r1r1"}
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    r1.refresh_from_db()
    assert r1.check_password(PASSWORD)


def test_an_admin_setting_a_password_cannot_use_the_users_handle(client_for, personas, r1):
    response = client_for(personas.admin).post(
        f"/settings/users/{r1.pk}/password",
        {"new_password": "r1r1r1r1", "new_password_again": "r1r1r1r1"},
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    r1.refresh_from_db()
    assert r1.check_password(PASSWORD)


def test_an_admin_creating_a_user_cannot_use_their_handle(client_for, personas):
    response = client_for(personas.admin).post(
        "/settings/users/new",
        {
            "email": "r2@example.com",
            "full_name": "R Two",
            "new_password": "r2r2r2r2",
            "new_password_again": "r2r2r2r2",
        },
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not User.objects.filter(email="r2@example.com").exists()


def test_the_api_refuses_the_handle_as_a_new_users_password(personas):
    secret = tokens.token_create(user=personas.admin, name="admin script").secret
    response = Client().post(
        "/api/v1/users",
        json.dumps({"email": "r2@example.com", "full_name": "R Two", "password": "r2r2r2r2"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422, response.content
    assert MESSAGE in response.content.decode()
    assert not User.objects.filter(email="r2@example.com").exists()
