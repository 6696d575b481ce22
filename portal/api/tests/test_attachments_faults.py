"""API uploads and downloads while the storage fails for real (moto behind the fault
stub, portal/testing/s3_faults.py): a problem+json 503 with Retry-After, in time, with
nothing written and nothing left in the bucket."""

import time

import pytest

from portal.api.tests.conftest import is_problem
from portal.attachments.bounded import DISCARD_SECONDS, DOWNLOAD_CHECK_SECONDS
from portal.attachments.tests.files import png
from portal.tickets.models import Attachment, Comment
from portal.tickets.tests.attachment_fixtures import good_files, upload

pytestmark = pytest.mark.django_db

BUDGET = 3
SLACK = 2  # an upper bound for a busy machine; without the bound this takes 20 s or more


def _bucket_keys(s3_server) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=s3_server.bucket)
    return [entry["Key"] for entry in listing.get("Contents", ())]


@pytest.mark.parametrize("comment", ["Here are the photos", ""], ids=["comment", "files-only"])
def test_an_upload_into_a_hanging_storage_is_a_503_within_the_budget(
    comment, personas, api_for, ticket, s3_server, s3_faults, faulty_s3_storage, settings
):
    settings.ATTACHMENT_UPLOAD_SECONDS = BUDGET
    s3_faults.hang(methods={"PUT"}, after=1)  # the first file is stored, the second hangs
    fields = {"comment": comment} if comment else {}
    started = time.monotonic()
    response = api_for(personas.requester).upload(
        f"/tickets/{ticket.number}/attachments", good_files(), **fields
    )
    assert time.monotonic() - started < BUDGET + DISCARD_SECONDS + SLACK
    body = is_problem(response, 503)
    assert body["type"] == "urn:portal:problem:unavailable"
    assert "could not be stored right now" in body["detail"]
    assert response["Retry-After"] == "30"
    assert not Attachment.objects.exists() and not Comment.objects.exists()
    assert _bucket_keys(s3_server) == []  # the first file was deleted again


def test_a_download_during_an_outage_is_a_503_problem_not_a_redirect(
    personas, api_for, ticket, s3_faults, faulty_s3_storage
):
    client = api_for(personas.requester)
    created = client.upload(f"/tickets/{ticket.number}/attachments", [upload("a.png", png())])
    assert created.status_code == 201
    url = created.json()["attachments"][0]["download_url"].removeprefix("/api/v1")

    s3_faults.hang()
    started = time.monotonic()
    response = client.get(url)
    assert time.monotonic() - started < DOWNLOAD_CHECK_SECONDS + SLACK
    is_problem(response, 503)
    assert response["Retry-After"] == "30" and "Location" not in response

    s3_faults.pass_through()
    s3_faults.release()
    assert client.get(url).status_code == 302  # recovered, nothing restarted
