"""Downloads go through the ticket's access rules; the ticket page lists what each person
may download, with thumbnails for raster images only."""

import pytest

from portal.attachments.tests.files import pdf, png
from portal.tickets import attachment_services
from portal.tickets.models import Attachment
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import upload

pytestmark = pytest.mark.django_db

files_storage = attachment_fixtures.files_storage  # the fixture, for this module

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider", "anonymous"]


@pytest.fixture
def public_file(personas, ticket, files_storage):
    """A PDF the requester attached with a public comment."""
    outcome = attachment_services.comment_add_with_files(
        actor=personas.requester, ticket=ticket, body="The invoice",
        files=[upload("invoice.pdf", pdf())],
    )  # fmt: skip
    return outcome.attachments[0]


@pytest.fixture
def internal_file(personas, ticket, files_storage):
    """A PNG the agent attached with an internal comment."""
    outcome = attachment_services.comment_add_with_files(
        actor=personas.agent, ticket=ticket, body="Vendor's screen", internal=True,
        files=[upload("vendor.png", png())],
    )  # fmt: skip
    return outcome.attachments[0]


def _row(requester, agent, lead, spoc, admin, outsider, anonymous):
    return dict(
        zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider, anonymous], strict=True)
    )


# Anonymous visitors are sent to sign in (302) before any lookup; outsiders get the 404
# of a file that does not exist; an internal comment's file is a 404 for the requester.
MATRIX = {
    "public_file": _row(200, 200, 200, 200, 200, 404, 302),
    "internal_file": _row(404, 200, 200, 200, 200, 404, 302),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("which", MATRIX)
def test_download_permission_matrix(which, persona, personas, client_for, request):
    attachment = request.getfixturevalue(which)
    user = None if persona == "anonymous" else getattr(personas, persona)
    response = client_for(user).get(f"/attachments/{attachment.pk}/download")
    assert response.status_code == MATRIX[which][persona]
    if response.status_code == 200:
        expected = pdf() if which == "public_file" else png()
        assert b"".join(response.streaming_content) == expected
    if response.status_code == 302:
        assert response["Location"].startswith("/login")


def test_an_unknown_attachment_is_a_404_like_a_hidden_one(personas, client_for, files_storage):
    assert client_for(personas.admin).get("/attachments/987654/download").status_code == 404


def test_downloads_are_attachments_with_safe_headers(personas, ticket, client_for, files_storage):
    outcome = attachment_services.comment_add_with_files(
        actor=personas.requester, ticket=ticket, body="Übersicht",
        files=[upload("Übersicht März.pdf", pdf())],
    )  # fmt: skip
    response = client_for(personas.agent).get(f"/attachments/{outcome.attachments[0].pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="Ubersicht Marz.pdf"; '
        "filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_only_raster_images_are_sent_inline_for_thumbnails(
    personas, client_for, public_file, internal_file
):
    client = client_for(personas.agent)
    image = client.get(f"/attachments/{internal_file.pk}/download", {"inline": "1"})
    assert image["Content-Disposition"].startswith("inline;")
    assert image["Content-Type"] == "image/png"
    document = client.get(f"/attachments/{public_file.pk}/download", {"inline": "1"})
    assert document["Content-Disposition"].startswith("attachment;")


def test_downloads_accept_only_get_and_head(personas, client_for, public_file):
    client = client_for(personas.requester)
    assert client.post(f"/attachments/{public_file.pk}/download").status_code == 405
    assert client.head(f"/attachments/{public_file.pk}/download").status_code == 200


def test_the_ticket_page_lists_files_with_thumbnails_for_images_only(
    personas, ticket, client_for, public_file, internal_file
):
    page = client_for(personas.agent).get(f"/tickets/{ticket.number}").content.decode()
    assert f'<img src="/attachments/{internal_file.pk}/download?inline=1"' in page
    assert f'/attachments/{public_file.pk}/download?inline=1"' not in page
    assert f'href="/attachments/{public_file.pk}/download"' in page
    for text in ("invoice.pdf", "application/pdf", "Requester Persona", "vendor.png", "image/png"):
        assert text in page
    assert "attached invoice.pdf" in page  # the history


def test_the_requester_does_not_see_internal_files_on_the_page(
    personas, ticket, client_for, public_file, internal_file
):
    page = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    assert "invoice.pdf" in page
    assert "vendor.png" not in page and f"/attachments/{internal_file.pk}/" not in page


def test_file_names_are_escaped_on_the_page(personas, ticket, client_for, files_storage):
    attachment_services.attachment_add(
        actor=personas.requester, ticket=ticket,
        files=[upload('<img src=x onerror="alert(1)">.txt', b"hello\n")],
    )  # fmt: skip
    page = client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.txt" in page
    assert Attachment.objects.get().original_name.startswith("<img")


def test_the_forms_accept_several_files_and_load_the_upload_script(personas, ticket, client_for):
    client = client_for(personas.requester)
    for url in ("/tickets/new", f"/tickets/{ticket.number}"):
        page = client.get(url).content.decode()
        assert 'enctype="multipart/form-data"' in page
        assert 'type="file" name="files" multiple' in page
        assert "/static/js/attachments.js" in page
        assert "style=" not in page and "<script>" not in page
