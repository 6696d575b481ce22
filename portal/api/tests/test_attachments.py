"""Files through the API: the web forms' services and checks, the ticket page's visibility
rule and its access-checked download, with every refusal a problem+json."""

import urllib.parse
import urllib.request

import pytest

from portal.api.tests.conftest import PERSONAS, is_problem, persona_user
from portal.attachments.tests.files import pdf, png
from portal.tickets import attachment_services
from portal.tickets.models import Attachment, Comment, TicketEvent
from portal.tickets.tests.attachment_fixtures import (
    files_storage,
    good_files,
    stored_keys,
    upload,
)

pytestmark = pytest.mark.django_db
files_storage = files_storage  # the fixture, imported for this module


def _snapshot(ticket) -> tuple:
    return (
        Attachment.objects.filter(ticket=ticket).count(),
        Comment.objects.filter(ticket=ticket).count(),
        TicketEvent.objects.filter(ticket=ticket).count(),
    )


def _internal_file(ticket, agent):
    """A file that came with an internal comment (workers only)."""
    outcome = attachment_services.comment_add_with_files(
        actor=agent,
        ticket=ticket,
        body="The serial number, for us",
        internal=True,
        files=[upload("serial.png", png())],
    )
    return outcome.attachments[0]


def _public_file(ticket, requester):
    return attachment_services.attachment_add(
        actor=requester, ticket=ticket, files=[upload("invoice.pdf", pdf())]
    ).attachments[0]


# --- the permission matrix ---------------------------------------------------------------

UPLOAD = {"requester": 201, "agent": 201, "lead": 201, "spoc": 201, "admin": 201,
          "outsider": 404, "anonymous": 401}  # fmt: skip
UPLOAD_INTERNAL = {**UPLOAD, "requester": 403}
LIST = {**UPLOAD, **{p: 200 for p in ("requester", "agent", "lead", "spoc", "admin")}}
DOWNLOAD_PUBLIC = LIST
DOWNLOAD_INTERNAL = {**LIST, "requester": 404}


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_may_upload_files_exactly_where_the_page_lets_them_comment(
    persona, personas, api_for, ticket, files_storage
):
    client = api_for(persona_user(personas, persona))
    before = _snapshot(ticket)
    response = client.upload(f"/tickets/{ticket.number}/attachments", good_files())
    assert response.status_code == UPLOAD[persona], response.content
    if response.status_code == 201:
        body = response.json()
        assert [a["name"] for a in body["attachments"]] == ["screenshot.png", "invoice.pdf"]
        assert body["comment"] is None and body["skipped"] == []
        assert all(a["internal"] is False for a in body["attachments"])
        assert len(stored_keys(files_storage)) == 2
    else:
        is_problem(response, UPLOAD[persona])
        assert _snapshot(ticket) == before and stored_keys(files_storage) == []


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_people_working_the_ticket_upload_with_an_internal_comment(
    persona, personas, api_for, ticket, files_storage
):
    client = api_for(persona_user(personas, persona))
    before = _snapshot(ticket)
    response = client.upload(
        f"/tickets/{ticket.number}/attachments",
        [upload("log.txt", b"disk full\n")],
        comment="Found it in the logs",
        internal=True,
    )
    assert response.status_code == UPLOAD_INTERNAL[persona], response.content
    if response.status_code == 201:
        body = response.json()
        assert body["comment"]["internal"] is True
        assert body["comment"]["body"] == "Found it in the logs"
        assert body["attachments"][0]["internal"] is True
        assert body["attachments"][0]["comment"] == body["comment"]["id"]
    else:
        is_problem(response, UPLOAD_INTERNAL[persona])
        assert _snapshot(ticket) == before and stored_keys(files_storage) == []


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_lists_the_files_the_ticket_page_shows_them(
    persona, personas, api_for, ticket, files_storage
):
    public = _public_file(ticket, personas.requester)
    internal = _internal_file(ticket, personas.agent)
    response = api_for(persona_user(personas, persona)).get(f"/tickets/{ticket.number}/attachments")
    assert response.status_code == LIST[persona], response.content
    if response.status_code != 200:
        is_problem(response, LIST[persona])
        return
    items = response.json()["items"]
    expected = [public.pk] if persona == "requester" else [public.pk, internal.pk]
    assert [item["id"] for item in items] == expected
    assert items[0] == {
        "id": public.pk,
        "name": "invoice.pdf",
        "size": len(pdf()),
        "content_type": "application/pdf",
        "sha256": public.sha256,
        "uploader": {
            "id": personas.requester.pk,
            "email": personas.requester.email,
            "full_name": personas.requester.full_name,
        },
        "comment": None,
        "internal": False,
        "created_at": items[0]["created_at"],
        "download_url": f"/api/v1/tickets/{ticket.number}/attachments/{public.pk}/download",
    }


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_downloads_what_the_ticket_page_would_let_them(
    persona, personas, api_for, ticket, files_storage
):
    public = _public_file(ticket, personas.requester)
    internal = _internal_file(ticket, personas.agent)
    client = api_for(persona_user(personas, persona))
    for attachment, expected, content in (
        (public, DOWNLOAD_PUBLIC, pdf()),
        (internal, DOWNLOAD_INTERNAL, png()),
    ):
        response = client.get(f"/tickets/{ticket.number}/attachments/{attachment.pk}/download")
        assert response.status_code == expected[persona], (attachment, response)
        if response.status_code == 200:
            # This file's own bytes, not merely one of the two on the ticket.
            assert b"".join(response.streaming_content) == content
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        else:
            is_problem(response, expected[persona])


def test_requesters_get_the_same_404_for_an_internal_file_as_for_a_missing_one(
    personas, api_for, ticket, files_storage
):
    internal = _internal_file(ticket, personas.agent)
    client = api_for(personas.requester)
    hidden = client.get(f"/tickets/{ticket.number}/attachments/{internal.pk}/download")
    missing = client.get(f"/tickets/{ticket.number}/attachments/999999/download")
    assert is_problem(hidden, 404)["detail"] == is_problem(missing, 404)["detail"]


def test_a_file_asked_for_under_another_tickets_number_is_a_404(
    personas, api_for, ticket, raise_ticket, files_storage
):
    public = _public_file(ticket, personas.requester)
    second = raise_ticket(title="Another one")
    client = api_for(personas.requester)
    is_problem(client.get(f"/tickets/{second.number}/attachments/{public.pk}/download"), 404)


def test_images_are_inline_only_when_asked(personas, api_for, ticket, files_storage):
    attachment = attachment_services.attachment_add(
        actor=personas.requester, ticket=ticket, files=[upload("shot.png", png())]
    ).attachments[0]
    client = api_for(personas.requester)
    path = f"/tickets/{ticket.number}/attachments/{attachment.pk}/download"
    assert client.get(path)["Content-Disposition"].startswith("attachment;")
    assert client.get(path + "?inline=true")["Content-Disposition"].startswith("inline;")
    is_problem(client.get(path + "?inlined=1"), 422)


def test_with_s3_the_download_redirects_to_a_short_lived_presigned_url(
    personas, api_for, ticket, s3_storage
):
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", [upload("invoice.pdf", pdf())]
    )
    assert response.status_code == 201, response.content
    url = response.json()["attachments"][0]["download_url"]
    assert url.startswith("/api/v1/")
    download = api_for(personas.agent).get(url.removeprefix("/api/v1"))
    assert download.status_code == 302
    location = download["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) <= 300
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 (loopback)
        assert fetched.read() == pdf()
    outsider = api_for(personas.outsider).get(url.removeprefix("/api/v1"))
    is_problem(outsider, 404)
    assert "Location" not in outsider


def test_a_storage_outage_is_a_503_and_nothing_is_written(
    personas, api_for, ticket, s3_server, s3_storage
):
    before = _snapshot(ticket)
    s3_server.stop()
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", good_files(), comment="Here are the photos"
    )
    body = is_problem(response, 503)
    assert body["type"] == "urn:portal:problem:unavailable"
    assert "could not be stored right now" in body["detail"]
    assert response["Retry-After"]
    assert _snapshot(ticket) == before


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([upload("huge.pdf", pdf() + b" " * 2048)], 413, "too_large"),
        ([upload("setup.exe", b"MZ" + b"\0" * 100)], 415, "blocked_type"),
        ([upload("photo.heic", b"whatever")], 415, "type_not_allowed"),
        ([upload("invoice.pdf", png())], 415, "content_mismatch"),
        ([upload("invoice.exe.pdf", pdf())], 415, "double_extension"),
        ([upload("empty.txt", b"")], 422, "empty"),
    ],
)
def test_a_refused_file_is_a_problem_naming_it_and_nothing_is_written(
    files, status, code, personas, api_for, ticket, files_storage, settings
):
    settings.ATTACHMENT_MAX_BYTES = 2048
    before = _snapshot(ticket)
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", files, comment="See attached"
    )
    body = is_problem(response, status)
    assert body["errors"][0]["field"] == "files"
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["message"].startswith(files[0].name.split("/")[-1][:5])
    assert "nothing was saved" in body["detail"]
    assert _snapshot(ticket) == before and stored_keys(files_storage) == []


def test_a_mix_of_refusals_is_a_422_and_offers_to_leave_them_out(
    personas, api_for, ticket, files_storage, settings
):
    settings.ATTACHMENT_MAX_BYTES = 2048
    files = [
        upload("ok.png", png()),
        upload("big.pdf", pdf() + b" " * 4096),
        upload("x.svg", b"<svg/>"),
    ]
    response = api_for(personas.requester).upload(f"/tickets/{ticket.number}/attachments", files)
    body = is_problem(response, 422)
    assert [e["code"] for e in body["errors"]] == ["too_large", "blocked_type"]
    assert "skip_refused=true" in body["detail"] and "ok.png" in body["detail"]
    assert stored_keys(files_storage) == []


def test_skip_refused_stores_the_accepted_files_and_lists_the_others(
    personas, api_for, ticket, files_storage
):
    files = [upload("ok.png", png()), upload("run.sh", b"#!/bin/sh\n")]
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", files, skip_refused=True
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [a["name"] for a in body["attachments"]] == ["ok.png"]
    assert [(s["name"], s["code"]) for s in body["skipped"]] == [("run.sh", "blocked_type")]
    assert len(stored_keys(files_storage)) == 1


def test_skip_refused_with_every_file_refused_writes_nothing(
    personas, api_for, ticket, files_storage
):
    before = _snapshot(ticket)
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", [upload("run.sh", b"x")], skip_refused=True
    )
    is_problem(response, 415)
    assert _snapshot(ticket) == before


def test_more_files_than_a_ticket_may_have_is_a_422(
    personas, api_for, ticket, files_storage, settings
):
    settings.ATTACHMENTS_PER_TICKET = 1
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", good_files()
    )
    body = is_problem(response, 422)
    assert body["errors"][0]["code"] == "too_many"
    assert "at most 1 files" in body["detail"]


def test_internal_files_need_an_internal_comment(personas, api_for, ticket, files_storage):
    response = api_for(personas.agent).upload(
        f"/tickets/{ticket.number}/attachments", good_files(), internal=True
    )
    assert is_problem(response, 422)["errors"][0]["field"] == "form.internal"


@pytest.mark.parametrize(
    ("send", "field"),
    [
        ({"fields": {"skip_refusd": "true"}}, "form.skip_refusd"),
        ({"fields": {"no_files": True}}, "files"),
    ],
)
def test_malformed_uploads_are_422_field_errors(send, field, personas, api_for, ticket):
    client = api_for(personas.requester)
    path = f"/tickets/{ticket.number}/attachments"
    if send["fields"].get("no_files"):
        response = client.client.post(f"/api/v1{path}", {"comment": "hi"}, headers=client.headers)
    else:
        response = client.upload(path, [upload("a.png", png())], **send["fields"])
    body = is_problem(response, 422)
    assert field in [e["field"] for e in body["errors"]], body


def test_uploading_does_not_make_an_editors_version_stale(personas, api_for, ticket, files_storage):
    client = api_for(personas.agent)
    version = client.get(f"/tickets/{ticket.number}").json()["version"]
    client.upload(f"/tickets/{ticket.number}/attachments", [upload("a.png", png())])
    edited = client.patch(f"/tickets/{ticket.number}", {"title": "Still mine", "version": version})
    assert edited.status_code == 200, edited.content


# --- query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 8])
def test_the_file_list_costs_the_same_whatever_the_number_of_files(
    count, personas, api_for, ticket, files_storage, django_assert_num_queries
):
    attachment_services.attachment_add(
        actor=personas.requester,
        ticket=ticket,
        files=[upload(f"shot-{index}.png", png()) for index in range(count)],
    )
    client = api_for(personas.requester)
    client.get("/notifications/unread-count")  # records the token's first use
    # 1 token + user, 2 rate limit (roles from the cache), 3 the ticket through the access
    # helper (people joined), 4 a page of files with their uploaders joined and the
    # internal flag of their comments.
    with django_assert_num_queries(4):
        response = client.get(f"/tickets/{ticket.number}/attachments")
    assert len(response.json()["items"]) == count
