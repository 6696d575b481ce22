"""Every error the API answers is application/problem+json with the RFC 9457 members."""

import ast
import json
from pathlib import Path

import pytest
from django.test import Client

from portal.api import problems
from portal.api.tests.conftest import is_problem
from portal.tickets import services
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_missing_and_wrong_tokens_are_401_with_a_bearer_challenge(personas):
    missing = Client().get("/api/v1/tickets")
    is_problem(missing, 401)
    assert missing["WWW-Authenticate"] == 'Bearer realm="api"'
    wrong = Client().get("/api/v1/tickets", headers={"Authorization": "Bearer ptk_nope"})
    is_problem(wrong, 401)
    assert wrong["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_a_refused_action_is_403_with_the_services_message(personas, api_for, ticket):
    body = is_problem(
        api_for(personas.requester).patch(
            f"/tickets/{ticket.number}", {"title": "x", "version": 1}
        ),
        403,
    )
    assert body["detail"] == "Only people working this ticket can edit it."
    assert body["type"] == "urn:portal:problem:forbidden"


def test_unknown_addresses_and_tickets_are_404(personas, api_for):
    client = api_for(personas.admin)
    is_problem(client.get("/no-such-endpoint"), 404)
    is_problem(client.get("/tickets/TKT-424242"), 404)
    is_problem(client.get("/tickets/not-a-number"), 404)
    is_problem(client.post("/notifications/999999/read"), 404)


def test_a_wrong_method_is_405_with_allow(personas, api_for, ticket):
    response = api_for(personas.agent).request("DELETE", f"/tickets/{ticket.number}")
    is_problem(response, 405)
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}


def test_unknown_fields_and_wrong_types_are_422_with_field_errors(personas, org, api_for, ticket):
    client = api_for(personas.agent)
    body = is_problem(
        client.patch(f"/tickets/{ticket.number}", {"version": 1, "titel": "typo"}), 422
    )
    assert body["errors"] == [{"field": "body.titel", "message": "Extra inputs are not permitted"}]
    body = is_problem(
        client.post(
            "/tickets",
            {"title": 5, "description": "x", "group": "one", "category": org.hardware.pk},
        ),
        422,
    )
    assert {e["field"] for e in body["errors"]} == {"body.title", "body.group"}
    body = is_problem(client.get("/tickets?stauts=new"), 422)
    assert body["errors"][0]["field"] == "query.stauts"
    body = is_problem(client.get(f"/tickets/{ticket.number}?expand=all"), 422)
    assert body["errors"][0]["field"] == "query.expand"
    body = is_problem(client.get("/tickets?status=bogus"), 422)
    assert body["errors"][0]["field"].startswith("query.status")
    body = is_problem(client.get("/tickets?view=unassigned"), 422)  # not offered to agents
    assert body["errors"] == [{"field": "query.view", "message": body["errors"][0]["message"]}]


def test_a_body_that_is_not_json_is_400(personas, api_for, ticket):
    client = api_for(personas.agent)
    response = client.client.post(
        "/api/v1/tickets", data="{not json", content_type="application/json",
        headers=client.headers,
    )  # fmt: skip
    is_problem(response, 400)


def test_a_damaged_cursor_is_400(personas, api_for, ticket):
    is_problem(api_for(personas.agent).get("/tickets?after=!!!"), 400)
    is_problem(api_for(personas.agent).get(f"/tickets/{ticket.number}/comments?after=e30"), 400)


def test_a_body_over_the_upload_limit_is_413(personas, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = api_for(personas.requester)
    is_problem(client.post("/tickets", {"title": "x", "description": "y" * 4000}), 413)


def test_a_service_input_refusal_is_400_and_changes_nothing(personas, org, api_for, ticket):
    response = api_for(personas.agent).post(
        f"/tickets/{ticket.number}/team", {"team": org.team_a.pk, "reason": "again"}
    )
    assert is_problem(response, 400)["detail"] == "The ticket is already with Team A."


def test_an_unexpected_failure_is_a_500_problem(personas, api_for, ticket, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "comment_add", broken)
    body = is_problem(
        api_for(personas.agent).post(f"/tickets/{ticket.number}/comments", {"body": "hi"}), 500
    )
    assert "boom" not in json.dumps(body)


def test_session_callers_need_the_csrf_token_for_writes(personas, ticket):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.agent)
    # Reads need no token; a write without one is refused and changes nothing.
    assert client.get(f"/api/v1/tickets/{ticket.number}").status_code == 200
    refused = client.post(
        f"/api/v1/tickets/{ticket.number}/comments",
        data=json.dumps({"body": "hi"}),
        content_type="application/json",
    )
    is_problem(refused, 403)
    assert ticket.comments.count() == 0
    client.get("/tickets")  # any page sets the CSRF cookie
    accepted = client.post(
        f"/api/v1/tickets/{ticket.number}/comments",
        data=json.dumps({"body": "hi"}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert accepted.status_code == 201, accepted.content


def test_stale_write_is_412_listing_the_changes_and_saves_nothing(personas, api_for, ticket):
    services.ticket_change_status(actor=personas.lead, ticket=ticket, status="in_progress")
    client = api_for(personas.agent)
    response = client.patch(
        f"/tickets/{ticket.number}", {"title": "Mine"}, headers={"If-Match": '"1"'}
    )
    body = is_problem(response, 412)
    assert body["current_version"] == 2
    assert [(c["field"], c["old_value"], c["new_value"]) for c in body["changes"]] == [
        ("status", "new", "in_progress")
    ]
    assert body["changes"][0]["actor"] == "Lead Persona"
    assert Ticket.objects.get(pk=ticket.pk).title == "Laptop will not start"
    # Read again, send the new ETag: saved.
    etag = client.get(f"/tickets/{ticket.number}")["ETag"]
    assert etag == '"2"'
    saved = client.patch(f"/tickets/{ticket.number}", {"title": "Mine"}, headers={"If-Match": etag})
    assert saved.status_code == 200
    assert saved["ETag"] == '"3"' and saved.json()["title"] == "Mine"


def test_stale_version_field_on_a_transition_is_412(personas, api_for, ticket):
    services.ticket_take(actor=personas.lead, ticket=ticket)
    response = api_for(personas.agent).post(
        f"/tickets/{ticket.number}/transitions", {"status": "on_hold", "version": 1}
    )
    is_problem(response, 412)
    assert Ticket.objects.get(pk=ticket.pk).status == "in_progress"


def test_an_edit_without_a_version_is_428(personas, api_for, ticket):
    is_problem(api_for(personas.agent).patch(f"/tickets/{ticket.number}", {"title": "x"}), 428)


def test_if_match_and_version_field_must_agree(personas, api_for, ticket):
    response = api_for(personas.agent).patch(
        f"/tickets/{ticket.number}", {"title": "x", "version": 2}, headers={"If-Match": '"1"'}
    )
    is_problem(response, 400)
    is_problem(
        api_for(personas.agent).patch(
            f"/tickets/{ticket.number}", {"title": "x"}, headers={"If-Match": "*"}
        ),
        400,
    )


# Two answers come from project middleware before the API sees the request: under /api/
# it answers in problem+json too.
def test_a_nul_in_the_query_string_is_a_400_problem(personas, api_for):
    is_problem(api_for(personas.agent).get("/tickets?q=a%00b"), 400)


def test_a_body_over_max_request_bytes_is_a_413_problem(personas, api_for, settings):
    settings.MAX_REQUEST_BYTES = 1024
    client = api_for(personas.requester)
    is_problem(client.post("/tickets", {"title": "x", "description": "y" * 4000}), 413)


def _problem_slugs_in_the_code() -> set[str]:
    """Every string literal given as `slug=` to `problem(...)` in the API package
    (both branches of a conditional included)."""
    slugs = set()
    for path in Path(problems.__file__).parent.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "problem":
                for keyword in node.keywords:
                    if keyword.arg == "slug":
                        slugs |= _string_values(keyword.value)
    return slugs


def _string_values(node) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _string_values(node.body) | _string_values(node.orelse)
    return set()


def test_every_problem_type_the_api_can_answer_has_a_human_title():
    slugs = _problem_slugs_in_the_code()
    assert {"locked-out", "slowed-down", "too-many-tokens"} <= slugs  # the scan finds them
    assert slugs - set(problems.TITLES) == set()


def test_a_master_data_save_that_loses_a_race_is_a_409_conflict(personas, api_for, monkeypatch):
    # Services signal a conflict with the current state with portal.lib.errors.Conflict;
    # the API answers it 409 (not 422: no field of the request is wrong).
    from portal.catalog import services as catalog_services
    from portal.lib.errors import Conflict

    def lose_the_race(**kwargs):  # as when another request saved "Team Z" a moment before
        raise Conflict(catalog_services.CONCURRENT_CHANGE, code="concurrent_change")

    monkeypatch.setattr(catalog_services, "team_create", lose_the_race)
    response = api_for(personas.admin).post("/catalog/teams", {"name": "Team Z"})
    problem = is_problem(response, 409)
    assert problem["type"] == "urn:portal:problem:conflict"
    assert problem["detail"] == catalog_services.CONCURRENT_CHANGE
