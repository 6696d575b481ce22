"""Ticket files on a real S3-protocol server (moto's, on loopback), configured as for R2:
uploaded through the form, downloaded through a presigned URL fetched over HTTP."""

import urllib.parse
import urllib.request

import pytest

from portal.attachments.tests.files import pdf, png
from portal.tickets.models import Attachment, Ticket
from portal.tickets.tests.attachment_fixtures import good_files, new_ticket_data, upload

pytestmark = pytest.mark.django_db


def _bucket_keys(s3_server) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=s3_server.bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", ()))


def test_files_go_to_the_bucket_and_come_back_byte_for_byte(
    personas, org, client_for, s3_server, s3_storage
):
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": good_files()}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    rows = {row.original_name: row for row in ticket.attachments.all()}
    assert _bucket_keys(s3_server) == sorted(row.storage_key for row in rows.values())

    download = client_for(personas.agent).get(f"/attachments/{rows['invoice.pdf'].pk}/download")
    assert download.status_code == 302
    url = download["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["response-content-disposition"] == ['attachment; filename="invoice.pdf"']
    assert download["X-Content-Type-Options"] == "nosniff"
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 (loopback)
        assert fetched.read() == pdf()
        assert fetched.headers["Content-Disposition"] == 'attachment; filename="invoice.pdf"'


def test_an_outsider_gets_no_presigned_url(personas, org, client_for, s3_storage):
    client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": [upload("a.png", png())]}
    )
    attachment = Attachment.objects.get()
    response = client_for(personas.outsider).get(f"/attachments/{attachment.pk}/download")
    assert response.status_code == 404
    assert "Location" not in response


def test_with_the_server_stopped_the_person_is_told_and_nothing_is_written(
    personas, org, client_for, s3_server, s3_storage
):
    s3_server.stop()
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": good_files()}
    )
    assert response.status_code == 503
    text = response.content.decode()
    assert "could not be stored right now" in text
    assert 'value="Printer smokes"' in text
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
