"""While the database cannot be reached, pages answer a static 503 page and the API a 503
problem+json, both with Retry-After; once it is back, the same clients carry on."""

import pytest
from django.test import Client

from portal.api import tokens
from portal.testing.database import unreachable_database

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)  # as a browser: only the answer counts
    client.force_login(user)
    return client


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The portal is temporarily unavailable" in page
    assert "may not have been saved" in page


def test_pages_answer_the_unavailable_page_and_recover_by_themselves(personas):
    anonymous = Client(raise_request_exception=False)
    requester = signed_in(personas.requester)
    admin = signed_in(personas.admin)
    with unreachable_database():
        # The sign-in form itself needs no database; signing in does.
        form = {"email": "requester@example.com", "password": "whatever"}
        assert_unavailable_page(anonymous.post("/login", form))
        assert_unavailable_page(requester.get("/dashboard"))
        assert_unavailable_page(requester.get("/no-such-page"))
        assert_unavailable_page(requester.get("/tickets"))
        assert_unavailable_page(requester.post("/tickets/new", {"title": "Printer on fire"}))
        assert_unavailable_page(admin.get("/settings/users"))
    assert anonymous.get("/login").status_code == 200
    assert requester.get("/dashboard").status_code == 200


def test_the_api_answers_503_problem_json_with_retry_after_and_recovers(personas):
    secret = tokens.token_create(user=personas.requester, name="outage").secret
    api = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {secret}"})
    by_session = signed_in(personas.agent)
    with unreachable_database():
        for response in (
            api.get("/api/v1/tickets"),
            api.post("/api/v1/tickets", {"title": "x"}, content_type="application/json"),
            # Signed in by the session instead of a token: the middleware fails first.
            by_session.get("/api/v1/tickets"),
        ):
            assert response.status_code == 503
            assert response["Content-Type"] == "application/problem+json"
            assert response["Retry-After"] == "30"
            body = response.json()
            assert body["status"] == 503
            assert body["type"] == "urn:portal:problem:unavailable"
            assert "nothing was changed" in body["detail"]
    assert api.get("/api/v1/tickets").status_code == 200
