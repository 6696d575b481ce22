"""SCIM 2.0 provisioning: the provider creates people, finds them by userName, renames
them, and deactivates leavers (PATCH active=false as Entra ID sends it, PUT as Okta
does, or DELETE), which ends their sessions and revokes their API tokens at once."""

import json
import logging

import pytest
from django.test import Client

from portal.accounts.models import User, UserSession
from portal.api.models import ApiToken
from portal.api.tokens import token_create
from portal.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "s" * 40
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
SCIM = "application/scim+json"


@pytest.fixture(autouse=True)
def scim_on(settings):
    settings.SCIM_TOKEN = TOKEN
    settings.APP_URL = "https://portal.example.com"


def scim(method, path, body=None, *, auth=AUTH, content_type=SCIM, client=None):
    client = client or Client()
    data = json.dumps(body) if body is not None and not isinstance(body, str) else body
    kwargs = {"content_type": content_type} if data is not None else {}
    return getattr(client, method.lower())(path, data, **kwargs, **auth)


def new_person(**extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "New.Starter@Example.com",
        "name": {"givenName": "New", "familyName": "Starter"},
        "emails": [{"value": "new.starter@example.com", "primary": True}],
        "active": True,
        "title": "Analyst",  # an attribute the portal does not keep
        **extra,
    }


def entra_patch(*operations) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": list(operations),
    }


def test_the_provider_creates_a_person_as_a_requester_without_a_password(db, caplog):
    caplog.set_level("INFO", logger="portal.security")
    response = scim("POST", "/scim/v2/Users", new_person())
    assert response.status_code == 201
    assert response["Content-Type"] == SCIM
    body = response.json()
    user = User.objects.get(email="new.starter@example.com")
    assert body["id"] == str(user.pk) and body["userName"] == "new.starter@example.com"
    assert body["active"] is True and body["displayName"] == "New Starter"
    assert response["Location"] == f"https://portal.example.com/scim/v2/Users/{user.pk}"
    assert not user.is_staff and not user.has_usable_password()
    assert "scim user created" in [r.getMessage() for r in caplog.records]


def test_a_person_who_exists_is_a_conflict(personas):
    response = scim("POST", "/scim/v2/Users", new_person(userName="Requester@example.com"))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"
    assert User.objects.filter(email="requester@example.com").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "scim_type"),
    [
        ({**new_person(), "userName": "not an email"}, 400, "invalidValue"),
        ({**new_person(), "userName": ""}, 400, "invalidValue"),
        ({**new_person(), "active": "perhaps"}, 400, "invalidValue"),
        ("[1, 2", 400, "invalidSyntax"),
        ([1, 2], 400, "invalidSyntax"),
    ],
)
def test_a_bad_new_person_is_refused_and_nothing_is_created(db, body, status, scim_type):
    before = User.objects.count()
    response = scim("POST", "/scim/v2/Users", body)
    assert response.status_code == status
    assert response.json()["scimType"] == scim_type
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert User.objects.count() == before


def test_a_body_that_is_not_json_by_type_is_refused(db):
    response = scim("POST", "/scim/v2/Users", "userName=x", content_type="text/plain")
    assert response.status_code == 415


def test_the_provider_finds_a_person_by_user_name(personas):
    found = scim("GET", '/scim/v2/Users?filter=userName eq "AGENT@example.com"').json()
    assert found["totalResults"] == 1
    assert [r["userName"] for r in found["Resources"]] == ["agent@example.com"]
    missing = scim("GET", '/scim/v2/Users?filter=userName eq "nobody@example.com"').json()
    assert missing["totalResults"] == 0 and missing["Resources"] == []
    refused = scim("GET", '/scim/v2/Users?filter=title eq "x"')
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidFilter"


def test_the_list_is_paged_in_the_database(personas, django_assert_num_queries):
    # the count and one page of users (a JSON answer is not a page view)
    with django_assert_num_queries(2):
        page = scim("GET", "/scim/v2/Users?startIndex=2&count=2").json()
    assert page["totalResults"] == User.objects.count()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2
    expected = list(User.objects.order_by("pk").values_list("email", flat=True)[1:3])
    assert [r["userName"] for r in page["Resources"]] == expected


def signed_in_with_a_token(user) -> tuple[Client, ApiToken]:
    browser = Client()
    browser.post("/login", {"email": user.email, "password": PASSWORD})
    assert browser.get("/dashboard").status_code == 200
    return browser, token_create(user=user, name="script", expires_in_days=30).token


@pytest.mark.parametrize(
    "deactivate",
    [
        ("PATCH", entra_patch({"op": "Replace", "path": "active", "value": "False"})),
        ("PATCH", entra_patch({"op": "replace", "value": {"active": False}})),
        ("PUT", {**new_person(userName="requester@example.com"), "active": False}),
        ("DELETE", None),
    ],
    ids=["entra-patch", "patch-value-object", "okta-put", "delete"],
)
def test_deactivating_a_leaver_ends_their_sessions_and_api_tokens(personas, deactivate, caplog):
    caplog.set_level("INFO", logger="portal.security")
    requester = personas.requester
    browser, token = signed_in_with_a_token(requester)
    method, body = deactivate
    response = scim(method, f"/scim/v2/Users/{requester.pk}", body)
    assert response.status_code == (204 if method == "DELETE" else 200)
    requester.refresh_from_db()
    assert not requester.is_active
    assert browser.get("/dashboard").status_code == 302
    assert not UserSession.objects.filter(user=requester).exists()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "scim user deactivated" in [r.getMessage() for r in caplog.records]
    if method != "DELETE":
        assert response.json()["active"] is False


def test_a_person_is_renamed_and_reactivated(personas):
    agent = personas.agent
    scim(
        "PATCH",
        f"/scim/v2/Users/{agent.pk}",
        entra_patch({"op": "replace", "path": "active", "value": False}),
    )
    response = scim(
        "PATCH",
        f"/scim/v2/Users/{agent.pk}",
        entra_patch(
            {"op": "Replace", "path": "active", "value": "True"},
            {"op": "Replace", "path": "displayName", "value": "Agent  Renamed"},
            {"op": "Add", "path": "title", "value": "Engineer"},  # ignored
        ),
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.is_active and agent.full_name == "Agent Renamed"
    assert response.json()["displayName"] == "Agent Renamed"


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": "active"}],
        [{"op": "move", "path": "active", "value": False}],
        [{"op": "replace", "path": "active", "value": "no"}],
        [{"op": "replace", "value": "not an object"}],
        ["not an object"],
    ],
)
def test_a_bad_patch_changes_nothing(personas, operations):
    response = scim("PATCH", f"/scim/v2/Users/{personas.agent.pk}", entra_patch(*operations))
    assert response.status_code == 400
    personas.agent.refresh_from_db()
    assert personas.agent.is_active


# --- who may call ---------------------------------------------------------------------------


def test_scim_is_off_without_a_token(settings, personas):
    settings.SCIM_TOKEN = ""
    assert scim("GET", "/scim/v2/Users").status_code == 404
    assert scim("GET", "/scim/v2/Users", auth={"HTTP_AUTHORIZATION": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token-wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_matrix_every_scim_request_needs_the_bearer_token(personas, authorization, caplog):
    auth = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    # A signed-in admin's browser session counts for nothing here.
    admin = Client()
    admin.force_login(personas.admin)
    requests = [
        ("GET", "/scim/v2/Users", None),
        ("POST", "/scim/v2/Users", new_person()),
        ("GET", f"/scim/v2/Users/{personas.requester.pk}", None),
        ("PATCH", f"/scim/v2/Users/{personas.requester.pk}", entra_patch()),
        ("PUT", f"/scim/v2/Users/{personas.requester.pk}", new_person()),
        ("DELETE", f"/scim/v2/Users/{personas.requester.pk}", None),
        ("GET", "/scim/v2/ServiceProviderConfig", None),
    ]
    for method, path, body in requests:
        response = scim(method, path, body, auth=auth, client=admin)
        assert response.status_code == 401, (method, path)
        assert response["WWW-Authenticate"] == 'Bearer realm="scim"'
    personas.requester.refresh_from_db()
    assert personas.requester.is_active
    assert not User.objects.filter(email="new.starter@example.com").exists()


def test_matrix_with_the_token(personas):
    pk = personas.requester.pk
    expected = {
        ("GET", "/scim/v2/Users"): 200,
        ("HEAD", "/scim/v2/Users"): 405,
        ("GET", f"/scim/v2/Users/{pk}"): 200,
        ("GET", "/scim/v2/Users/999999"): 404,
        ("PATCH", "/scim/v2/Users/999999"): 404,
        ("POST", f"/scim/v2/Users/{pk}"): 405,
        ("GET", "/scim/v2/ServiceProviderConfig"): 200,
        ("POST", "/scim/v2/ServiceProviderConfig"): 405,
    }
    actual = {
        (method, path): getattr(Client(), method.lower())(path, **AUTH).status_code
        for method, path in expected
    }
    assert actual == expected


def test_a_refused_token_is_logged(db, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        scim("GET", "/scim/v2/Users", auth={"HTTP_AUTHORIZATION": "Bearer nope"})
    assert "scim refused: bad token" in [r.getMessage() for r in caplog.records]
