"""storages_from_env: the settings logic for STORAGES["attachments"], and /healthz's check."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.attachments.bounded import (
    DEFAULT_UPLOAD_SECONDS,
    DISCARD_SECONDS,
    MAX_UPLOAD_SECONDS,
    PROBE_SECONDS,
)
from portal.attachments.health import check_storage
from portal.attachments.storage import storages_from_env

R2 = {
    "R2_ENDPOINT": "https://account.r2.cloudflarestorage.com",
    "R2_BUCKET_NAME": "attachments",
    "R2_ACCESS_KEY_ID": "key",
    "R2_SECRET_ACCESS_KEY": "secret",
}


def test_without_r2_attachments_are_local_files_no_url_serves(tmp_path):
    entry = storages_from_env(tmp_path, environ={})
    assert entry["BACKEND"] == "portal.attachments.storage.PrivateFileSystemStorage"
    assert entry["OPTIONS"]["location"] == str(tmp_path / "attachments")
    assert "base_url" not in entry["OPTIONS"]


def test_with_r2_attachments_go_to_a_private_bucket(tmp_path):
    options = storages_from_env(tmp_path, environ=R2)["OPTIONS"]
    assert options["endpoint_url"] == R2["R2_ENDPOINT"]
    assert options["bucket_name"] == "attachments"
    assert options["default_acl"] is None
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["custom_domain"] is None
    assert options["region_name"] == "auto"
    config = options["client_config"]
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}
    assert config.connect_timeout == 3 and config.read_timeout == 10
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"


def test_the_public_url_is_never_used_to_serve_files(tmp_path):
    options = storages_from_env(
        tmp_path, environ={**R2, "R2_PUBLIC_URL": "https://files.example.com"}
    )["OPTIONS"]
    assert "files.example.com" not in repr(options)


def test_timeouts_and_expiry_are_configurable_within_bounds(tmp_path):
    environ = {
        **R2,
        "ATTACHMENT_STORAGE_CONNECT_TIMEOUT": "2",
        "ATTACHMENT_STORAGE_READ_TIMEOUT": "7",
        "ATTACHMENT_STORAGE_MAX_ATTEMPTS": "1",
        "ATTACHMENT_DOWNLOAD_URL_SECONDS": "60",
        "R2_ADDRESSING_STYLE": "virtual",
    }
    options = storages_from_env(tmp_path, environ=environ)["OPTIONS"]
    assert options["querystring_expire"] == 60
    config = options["client_config"]
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries["total_max_attempts"] == 1
    assert config.s3 == {"addressing_style": "virtual"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"R2_ENDPOINT": "https://x", "R2_BUCKET_NAME": "b"}, "missing: R2_ACCESS_KEY_ID"),
        ({**R2, "ATTACHMENT_DOWNLOAD_URL_SECONDS": "3600"}, "within 300 seconds"),
        ({**R2, "ATTACHMENT_STORAGE_READ_TIMEOUT": "soon"}, "whole number"),
        ({**R2, "ATTACHMENT_STORAGE_MAX_ATTEMPTS": "0"}, "at least 1"),
        ({**R2, "R2_ADDRESSING_STYLE": "sideways"}, "path, virtual or auto"),
    ],
)
def test_mistakes_stop_start_up_with_a_message(tmp_path, environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        storages_from_env(tmp_path, environ=environ)


def test_the_process_environment_is_read_when_none_is_given(tmp_path, monkeypatch):
    for name, value in R2.items():
        monkeypatch.setenv(name, value)
    assert storages_from_env(tmp_path)["BACKEND"] == "storages.backends.s3.S3Storage"


# --- Health ------------------------------------------------------------------------------


def test_health_local_storage_ok(local_storage):
    assert check_storage() == (True, {"status": "ok", "backend": "local"})


def test_health_s3_ok(s3_storage):
    assert check_storage() == (True, {"status": "ok", "backend": "s3"})


def test_health_s3_down_is_failing_and_answers_fast(s3_storage, s3_server):
    s3_server.stop()
    started = time.monotonic()
    ok, detail = check_storage()
    assert ok is False
    assert detail["status"] == "down" and detail["backend"] == "s3"
    assert detail["error"] == "EndpointConnectionError"
    assert time.monotonic() - started < 3  # one attempt, short timeouts


def test_health_missing_bucket_is_down(s3_storage, s3_server):
    s3_server.client().delete_bucket(Bucket=s3_server.bucket)
    ok, detail = check_storage()
    assert ok is False and detail["status"] == "down"


def test_health_without_a_configured_storage_is_down_not_an_exception(settings):
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "attachments"}
    ok, detail = check_storage()
    assert ok is False and detail["status"] == "down"


# --- Health notices failing writes (the fault stub in front of the loopback server) ------


def test_health_notices_a_storage_that_refuses_writes_while_the_bucket_answers(
    s3_faults, faulty_s3_storage
):
    s3_faults.answer(501, methods={"PUT"})  # HEAD and LIST still fine: uploads are not
    ok, detail = check_storage()
    assert ok is False and detail["status"] == "down" and detail["backend"] == "s3"
    assert "write a health probe" in detail["detail"]


def test_health_notices_a_hanging_storage_within_its_probe_time(s3_faults, faulty_s3_storage):
    s3_faults.hang()
    started = time.monotonic()
    ok, detail = check_storage()
    assert detail["status"] == "down"
    assert time.monotonic() - started < PROBE_SECONDS + 1


def test_health_recovers_with_the_storage_and_leaves_no_probe_behind(
    s3_server, s3_faults, faulty_s3_storage
):
    s3_faults.answer(500)
    assert check_storage()[1]["status"] == "down"
    s3_faults.pass_through()
    assert check_storage() == (True, {"status": "ok", "backend": "s3"})
    listing = s3_server.client().list_objects_v2(Bucket=s3_server.bucket)
    assert listing.get("KeyCount", 0) == 0  # written and deleted


@pytest.mark.django_db
def test_healthz_reports_failing_storage_writes_but_readiness_stays_up(
    client, s3_faults, faulty_s3_storage
):
    s3_faults.answer(500, methods={"PUT"})
    response = client.get("/healthz")  # monitoring: 503, naming the storage
    assert response.status_code == 503
    assert "storage" in response.json()["failing"]
    assert response.json()["storage"]["status"] == "down"
    # The load balancer's check: pages still work without the storage.
    assert client.get("/healthz/ready").status_code == 200


def test_the_upload_budget_and_its_clean_up_answer_within_15_seconds():
    # The promise to people uploading (docs/operations.md): a 503 within 15 s, whatever
    # the number of files, and never gunicorn's 30 s worker timeout.
    assert MAX_UPLOAD_SECONDS + DISCARD_SECONDS < 15
    assert DEFAULT_UPLOAD_SECONDS <= MAX_UPLOAD_SECONDS
