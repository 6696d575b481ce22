"""Storage health for /healthz, in the shape of portal/core/health.py's checks.

The check writes: a bucket that exists but refuses or swallows writes (a full disk, a
revoked write permission, an endpoint that accepts connections and never answers) is
exactly when uploads fail, and a HeadBucket would still say "ok". So S3/R2 gets one small
PUT and one DELETE of a fixed health key (overwritten each time, outside the `tickets/`
prefix the orphan sweep owns) within PROBE_SECONDS in all; local storage writes and removes
a small file.

A failing check makes the monitoring report `/healthz` a 503 naming "storage"; the load
balancer's `/healthz/ready` does not look at it: with storage down, pages, tickets and
comments still work (uploads get a clear error), so no web server must be taken out.
"""

import os
import uuid

from django.core.files.storage import Storage

from portal.attachments import bounded
from portal.attachments.storage import StorageUnavailable, get_storage, is_s3

HEALTH_KEY = "_health/write-probe"
_PROBE_BODY = b"portal storage health probe\n"


def check_storage(storage: Storage | None = None) -> tuple[bool, dict]:
    """(healthy, {"status": "ok" | "down", ...}): writable and deletable now, or why not.

    S3/R2: PUT then DELETE of a few bytes under HEALTH_KEY, one attempt each, both within
    PROBE_SECONDS. Local: the folder exists (or can be created) and a file can be written
    and removed.
    """
    try:
        storage = storage or get_storage()
        detail = _check_s3(storage) if is_s3(storage) else _check_local(storage)
    except Exception as exc:  # a probe reports; it never raises
        detail = {"status": "down", "error": exc.__class__.__name__}
    return detail["status"] == "ok", detail


def _check_s3(storage) -> dict:
    deadline = bounded.Deadline(bounded.PROBE_SECONDS)
    bucket = storage.bucket_name
    try:
        bounded.call(
            storage,
            deadline,
            "write a health probe",
            lambda client: client.put_object(Bucket=bucket, Key=HEALTH_KEY, Body=_PROBE_BODY),
            attempts=1,
        )
        bounded.call(
            storage,
            deadline,
            "delete a health probe",
            lambda client: client.delete_object(Bucket=bucket, Key=HEALTH_KEY),
            attempts=1,
        )
    except (StorageUnavailable, FileNotFoundError) as exc:
        cause = exc.__cause__ or exc
        return {
            "status": "down",
            "backend": "s3",
            "error": cause.__class__.__name__,
            "detail": str(exc)[:200],
        }
    return {"status": "ok", "backend": "s3"}


def _check_local(storage) -> dict:
    location = storage.location
    probe = os.path.join(location, f".health-{uuid.uuid4().hex}")
    try:
        os.makedirs(location, mode=0o750, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(_PROBE_BODY)
        os.remove(probe)
    except OSError as exc:
        return {"status": "down", "backend": "local", "error": exc.__class__.__name__}
    return {"status": "ok", "backend": "local"}
