"""API fixtures: the ticket fixtures of the tickets app, tokens per persona, a JSON client."""

import json

import pytest
from django.test import Client

from portal.api import tokens
from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the web tests
    group_y_ticket,
    other_ticket,
    people,
    raise_ticket,
    ticket,
    watcher,
)

# Every persona plus nobody signed in: the rows of the API's permission matrices.
PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider", "anonymous"]


def persona_user(personas, persona: str):
    """The user behind a PERSONAS name (None for "anonymous"), for `api_for`."""
    return None if persona == "anonymous" else getattr(personas, persona)


@pytest.fixture(autouse=True)
def _api_routes(settings):
    """Serve the API even before the project urlconf includes it (see tests/urls.py)."""
    settings.ROOT_URLCONF = "portal.api.tests.urls"


class ApiClient:
    """A test client that sends a bearer token and JSON bodies, and decodes answers."""

    def __init__(self, secret: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def request(self, method: str, path: str, body=None, headers=None, **extra):
        kwargs = {"headers": {**self.headers, **(headers or {})}, **extra}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def upload(self, path: str, files, **fields):
        """multipart/form-data: `files` under the `files` field, plus plain form fields."""
        data = {"files": list(files)}
        for name, value in fields.items():
            data[name] = str(value).lower() if isinstance(value, bool) else value
        return self.client.post(f"/api/v1{path}", data=data, headers=self.headers)


@pytest.fixture
def api_for(personas):
    """`api_for(user)` → an ApiClient with a fresh token of that user (None: no token)."""

    def make(user) -> ApiClient:
        if user is None:
            return ApiClient(None)
        return ApiClient(tokens.token_create(user=user, name="tests").secret)

    return make


def is_problem(response, status: int) -> dict:
    """Assert `response` is a problem+json of `status` and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:portal:problem:")
    assert body["title"] and body["detail"]
    return body
