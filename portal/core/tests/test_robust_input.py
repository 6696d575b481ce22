"""Malformed input gets a clear 400, never a 500."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_nul_byte_in_query_string_is_a_400(client_for, personas):
    response = client_for(personas.admin).get("/settings/users?q=a%00b")
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_nul_byte_in_a_form_is_a_400_and_signs_nobody_in(client, personas):
    response = client.post("/login", {"email": "requester@example.com\x00", "password": "x"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_overlong_email_is_a_form_error(client):
    response = client.post("/login", {"email": "a" * 300 + "@example.com", "password": "x"})
    assert response.status_code == 400
    assert b"at most 254 characters" in response.content


def test_malformed_page_number_falls_back_to_a_page(client_for, personas):
    assert client_for(personas.admin).get("/settings/users?page=abc").status_code == 200
    assert (
        client_for(personas.admin).get("/settings/users?page=99999999999999999999").status_code
        == 200
    )


def test_oversized_request_body_is_a_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/login", {"email": "x@example.com", "password": "p" * 5000})
    assert response.status_code == 400


def test_state_changes_need_post(client_for, personas):
    assert (
        client_for(personas.admin).get(f"/settings/users/{personas.agent.pk}/password").status_code
        == 405
    )


def test_a_body_over_the_request_limit_is_refused_with_413_before_it_is_read(client, settings):
    settings.MAX_REQUEST_BYTES = 1024
    response = client.post("/login", data=b"x" * 2048, content_type="application/octet-stream")
    assert response.status_code == 413
    assert b"too large" in response.content


def test_a_malformed_content_length_is_a_400(client):
    response = client.generic("POST", "/login", b"", CONTENT_LENGTH="abc")
    assert response.status_code == 400
