"""What an attacker sends at the API's edges: NUL characters in JSON and form fields, damaged
multipart bodies, bodies of the wrong content type, ids probed through tickets one cannot
see, and actions against a stale version. Every answer is a 4xx problem+json and nothing is
stored (portal/api/parser.py, problems.py, schemas.VisibleTicket)."""

import json

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.api.models import ApiToken
from portal.api.tests.conftest import is_problem
from portal.attachments.tests.files import png
from portal.testing.personas import PASSWORD
from portal.tickets import services
from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent
from portal.tickets.tests.attachment_fixtures import files_storage, stored_keys, upload

pytestmark = pytest.mark.django_db
URLENCODED = "application/x-www-form-urlencoded"
files_storage = files_storage  # the fixture, imported for this module


def _everything(ticket) -> tuple:
    """Every row a refused request might have half-written, and the ticket's own fields."""
    row = Ticket.objects.values("title", "description", "status", "assignee", "team", "version")
    return (
        Ticket.objects.count(),
        Comment.objects.count(),
        TicketEvent.objects.count(),
        Attachment.objects.count(),
        ApiToken.objects.count(),
        User.objects.count(),
        row.get(pk=ticket.pk),
    )


# --- NUL characters ------------------------------------------------------------------------

# (who, method, path, body, the field the answer names); `{n}` is the ticket's number.
NUL_BODIES = {
    "token exchange email": (
        None, "POST", "/auth/token",
        {"email": "requester\x00@example.com", "password": PASSWORD}, "body.email",
    ),
    "token name": (
        None, "POST", "/auth/token",
        {"email": "requester@example.com", "password": PASSWORD, "name": "a\x00b"}, "body.name",
    ),
    "ticket create": (
        "requester", "POST", "/tickets",
        {"title": "a\x00b", "description": "x", "group": "GROUP", "category": "CATEGORY"},
        "body.title",
    ),
    "comment": ("agent", "POST", "/tickets/{n}/comments", {"body": "a\x00b"}, "body.body"),
    "edit": (
        "agent", "PATCH", "/tickets/{n}", {"version": 1, "description": "x\x00"},
        "body.description",
    ),
    "transition reason": (
        "agent", "POST", "/tickets/{n}/transitions", {"status": "in_progress", "reason": "\x00"},
        "body.reason",
    ),
    "move reason": (
        "lead", "POST", "/tickets/{n}/team", {"team": "TEAM_B", "reason": "not ours\x00"},
        "body.reason",
    ),
    "user create": (
        "admin", "POST", "/users", {"email": "new@example.com", "full_name": "New\x00Person"},
        "body.full_name",
    ),
    "a member name": ("agent", "POST", "/tickets/{n}/comments", {"bo\x00dy": "x"}, "body.bo\x00dy"),
    "nested deep": (
        "agent", "PATCH", "/tickets/{n}", {"version": 1, "x": {"y": ["fine", "b\x00"]}},
        "body.x.y.1",
    ),
}  # fmt: skip


def _fill(body: dict, org) -> dict:
    ids = {"GROUP": org.group_x.pk, "CATEGORY": org.hardware.pk, "TEAM_B": org.team_b.pk}
    return {key: ids.get(value, value) if isinstance(value, str) else value
            for key, value in body.items()}  # fmt: skip


@pytest.mark.parametrize("case", list(NUL_BODIES))
def test_a_nul_anywhere_in_a_json_body_is_a_422_naming_the_field_and_stores_nothing(
    case, personas, org, api_for, ticket
):
    who, method, path, body, field = NUL_BODIES[case]
    client = api_for(getattr(personas, who) if who else None)
    before = _everything(ticket)
    response = client.request(method, path.format(n=ticket.number), _fill(body, org))
    problem = is_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "NUL" in problem["errors"][0]["message"]
    assert _everything(ticket) == before


def test_a_nul_in_a_multipart_text_field_is_a_422_and_stores_no_file(
    personas, api_for, ticket, files_storage
):
    client = api_for(personas.agent)
    before = _everything(ticket)
    response = client.upload(
        f"/tickets/{ticket.number}/attachments", [upload("a.png", png())], comment="see\x00this"
    )
    assert [e["field"] for e in is_problem(response, 422)["errors"]] == ["form.comment"]
    assert _everything(ticket) == before
    assert stored_keys(files_storage) == []


# --- damaged multipart bodies --------------------------------------------------------------


def _part(header: str, content: bytes = b"x") -> bytes:
    return b"--B\r\n" + header.encode() + b"\r\n\r\n" + content + b"\r\n"


LONG_NAME = "a" * 1000 + ".png"
FILE_HEADER = (
    'Content-Disposition: form-data; name="files"; filename="{}"\r\nContent-Type: image/png'
)
DAMAGED = {
    "no boundary": ("multipart/form-data", _part(FILE_HEADER.format("a.png"), png()) + b"--B--"),
    "a 1,000-character file name": (
        "multipart/form-data; boundary=B",
        _part(FILE_HEADER.format(LONG_NAME), png()) + b"--B--\r\n",
    ),
    "a boundary over 70 characters": (
        "multipart/form-data; boundary=" + "B" * 71,
        _part(FILE_HEADER.format("a.png"), png()) + b"--B--",
    ),
    "broken base64": (
        "multipart/form-data; boundary=B",
        _part(FILE_HEADER.format("a.png") + "\r\nContent-Transfer-Encoding: base64", b"!!!x")
        + b"--B--\r\n",
    ),
    "no closing boundary": ("multipart/form-data; boundary=B", _part(FILE_HEADER.format("a.png"))),
    "garbage": ("multipart/form-data; boundary=B", b"\x00\xff" * 500),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_multipart_upload_is_a_4xx_problem_and_stores_nothing(
    case, personas, api_for, ticket, files_storage
):
    content_type, body = DAMAGED[case]
    client = api_for(personas.agent)
    before = _everything(ticket)
    response = client.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        data=body,
        content_type=content_type,
        headers=client.headers,
    )
    assert 400 <= response.status_code < 500, response.content
    is_problem(response, response.status_code)
    assert _everything(ticket) == before
    assert stored_keys(files_storage) == []


@pytest.mark.parametrize("case", ["no boundary", "a 1,000-character file name"])
def test_the_page_and_the_api_both_answer_a_damaged_multipart_body_with_400(
    case, personas, api_for, client_for, ticket, files_storage
):
    content_type, body = DAMAGED[case]
    client = api_for(personas.agent)
    api = client.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        data=body,
        content_type=content_type,
        headers=client.headers,
    )
    page = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/files", data=body, content_type=content_type
    )
    assert page.status_code == 400
    assert is_problem(api, 400)["detail"].startswith("The multipart body could not be read")


# --- content types -------------------------------------------------------------------------


def _raise_body(org) -> str:
    return json.dumps(
        {"title": "Sent as text", "description": "x", "group": org.group_x.pk,
         "category": org.hardware.pk}
    )  # fmt: skip


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
def test_a_json_body_under_another_content_type_is_a_415_and_raises_nothing(
    content_type, personas, org, api_for, ticket
):
    client = api_for(personas.requester)
    before = _everything(ticket)
    response = client.client.generic(
        "POST", "/api/v1/tickets", _raise_body(org), content_type=content_type,
        headers=client.headers,
    )  # fmt: skip
    problem = is_problem(response, 415)
    assert problem["type"] == "urn:portal:problem:unsupported-media-type"
    assert "application/json" in problem["detail"]
    assert _everything(ticket) == before


def test_json_with_a_charset_parameter_is_still_json(personas, org, api_for):
    client = api_for(personas.requester)
    response = client.client.post(
        "/api/v1/tickets", _raise_body(org), content_type="application/json; charset=utf-8",
        headers=client.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_an_upload_that_is_not_multipart_is_a_415(content_type, personas, api_for, ticket):
    client = api_for(personas.agent)
    before = _everything(ticket)
    body = json.dumps({"comment": "hi"}) if content_type == "application/json" else "comment=hi"
    response = client.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments", body, content_type=content_type,
        headers=client.headers,
    )  # fmt: skip
    assert "multipart/form-data" in is_problem(response, 415)["detail"]
    assert _everything(ticket) == before


def test_an_action_without_a_body_may_come_as_an_empty_form(personas, api_for, ticket):
    # Django's test client and HTML forms send an empty multipart body for a bare POST.
    response = api_for(personas.lead).client.post(
        f"/api/v1/tickets/{ticket.number}/take",
        headers=api_for(personas.lead).headers,
    )
    assert response.status_code == 200, response.content


# --- probing through a ticket one cannot see -----------------------------------------------

# Each action with bodies that would get different answers on a visible ticket.
PROBES = {
    "assign": ("POST", "/assign", [{"assignee": "AGENT"}, {"assignee": 999_999}, {"x": 1}]),
    "transition": ("POST", "/transitions", [{"status": "resolved"}, {"status": "bogus"}, {}]),
    "take": ("POST", "/take", [None, {"version": 1}, {"version": "x"}]),
    "move team": ("POST", "/team", [{"team": "TEAM_B", "reason": "x"}, {"team": 999_999}]),
    "comment": ("POST", "/comments", [{"body": "hi"}, {"body": ""}, {"bo\x00dy": "x"}]),
    "edit": ("PATCH", "", [{"title": "x", "version": 1}, {"title": "x"}, {"titel": 1}]),
    "watch": ("PUT", "/watchers/me", [None]),
    "unwatch": ("DELETE", "/watchers/me", [None]),
}


@pytest.mark.parametrize("action", list(PROBES))
def test_every_action_on_a_ticket_one_cannot_see_is_404_whatever_the_body(
    action, personas, org, api_for, ticket
):
    method, suffix, bodies = PROBES[action]
    client = api_for(personas.outsider)
    path = f"/tickets/{ticket.number}{suffix}"
    ids = {"AGENT": personas.agent.pk, "TEAM_B": org.team_b.pk}
    before = _everything(ticket)
    answers = []
    for body in bodies:
        if body is not None:
            body = {key: ids.get(value, value) for key, value in body.items()}
        answers.append(client.request(method, path, body))
    for raw, content_type in (("{not json", "text/plain"), ("x=%00", URLENCODED)):
        answers.append(
            client.client.generic(method, f"/api/v1{path}", raw, content_type=content_type,
                                  headers=client.headers)
        )  # fmt: skip
    for response in answers:
        is_problem(response, 404)
    assert len({response.content for response in answers}) == 1, "the answers differ"
    assert _everything(ticket) == before


def test_an_upload_to_a_ticket_one_cannot_see_is_404_whatever_the_body(
    personas, api_for, ticket, files_storage
):
    client = api_for(personas.outsider)
    path = f"/tickets/{ticket.number}/attachments"
    answers = [
        client.upload(path, [upload("a.png", png())]),
        client.upload(path, [upload("a.png", png())], bogus="1"),
        client.post(path, {"comment": "not multipart"}),
    ]
    for response in answers:
        is_problem(response, 404)
    assert stored_keys(files_storage) == []


def test_someone_who_may_not_assign_gets_403_for_existing_and_missing_ids_alike(
    personas, org, api_for, ticket
):
    client = api_for(personas.requester)
    path = f"/tickets/{ticket.number}"
    for body in ({"assignee": personas.lead.pk}, {"assignee": 999_999}):
        is_problem(client.post(f"{path}/assign", body), 403)
    for body in ({"team": org.team_b.pk, "reason": "x"}, {"team": 999_999, "reason": "x"}):
        is_problem(client.post(f"{path}/team", body), 403)


# --- actions against a stale version -------------------------------------------------------

ACTIONS = {
    "transition": ("agent", "/transitions", {"status": "in_progress"}),
    "take": ("lead", "/take", {}),
    "assign": ("lead", "/assign", {"assignee": "LEAD"}),
    "move team": ("lead", "/team", {"team": "TEAM_B", "reason": "Not ours"}),
}


@pytest.mark.parametrize("how", ["body", "If-Match"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_action_against_a_stale_version_is_412_and_changes_nothing(
    action, how, personas, org, api_for, ticket
):
    who, suffix, body = ACTIONS[action]
    ids = {"LEAD": personas.lead.pk, "TEAM_B": org.team_b.pk}
    body = {key: ids.get(value, value) for key, value in body.items()}
    # Someone else edits the ticket after the caller read version 1.
    services.ticket_update(actor=personas.admin, ticket=ticket, expected_version=1, title="New")
    client = api_for(getattr(personas, who))
    path = f"/tickets/{ticket.number}{suffix}"

    def send(version: int):
        if how == "body":
            return client.post(path, {**body, "version": version})
        return client.post(path, body, headers={"If-Match": f'"{version}"'})

    before = _everything(ticket)
    problem = is_problem(send(1), 412)
    assert problem["current_version"] == 2
    assert [change["field"] for change in problem["changes"]] == ["title"]
    assert _everything(ticket) == before
    # With the current version the same action goes through.
    done = send(2)
    assert done.status_code == 200, done.content
    assert done.json()["version"] == 3


def test_an_action_without_a_version_still_acts_on_the_current_ticket(personas, api_for, ticket):
    services.ticket_update(actor=personas.admin, ticket=ticket, expected_version=1, title="New")
    response = api_for(personas.lead).post(f"/tickets/{ticket.number}/take")
    assert response.status_code == 200, response.content


def test_the_openapi_document_declares_415_for_bodies_and_412_and_version_for_actions():
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                assert "415" in operation["responses"], f"{method} {path}"
    for suffix in ("transitions", "take", "assign", "team"):
        operation = paths[f"/api/v1/tickets/{{number}}/{suffix}"]["post"]
        assert "412" in operation["responses"]
        assert "If-Match" in [parameter["name"] for parameter in operation["parameters"]]
        schema = json.dumps(operation["requestBody"])
        assert "In" in schema  # the body's schema, which carries `version`
    components = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("TransitionIn", "VersionIn", "AssignIn", "MoveTeamIn"):
        assert "version" in components[name]["properties"], name


def test_files_with_a_requesters_comment_on_a_cancelled_ticket_are_a_documented_409(
    personas, api_for, ticket, files_storage
):
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status="cancelled")
    client = api_for(personas.requester)
    before = _everything(ticket)
    response = client.upload(
        f"/tickets/{ticket.number}/attachments", [upload("a.png", png())], comment="One more"
    )
    assert "follow-up" in is_problem(response, 409)["detail"]
    assert _everything(ticket) == before
    assert stored_keys(files_storage) == []
    operation = (
        Client()
        .get("/api/v1/openapi.json")
        .json()["paths"]["/api/v1/tickets/{number}/attachments"]["post"]
    )
    assert "409" in operation["responses"]
