"""Storage health for /healthz, in the shape of portal/core/health.py's checks.

Like the worker check, it never makes /healthz a 503: with storage down, pages, tickets
and comments still work (uploads get a clear error), so a load balancer must not take the
portal out of service. The status is reported for monitoring instead.
"""

import os

import boto3
from botocore.config import Config
from django.core.files.storage import Storage

from portal.attachments.storage import get_storage, is_s3, storage_errors

# A probe must answer fast whatever the storage does: load balancers give up on /healthz
# after a few seconds, and one slow dependency must not make the whole portal look dead.
_PROBE_CONFIG = Config(
    connect_timeout=2, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1}
)


def check_storage(storage: Storage | None = None) -> tuple[bool, dict]:
    """(True, {"status": "ok" | "down", ...}): reachable and usable, or why not.

    S3/R2: one HeadBucket request (credentials, bucket and network in one cheap call).
    Local: the folder exists (or can be created) and is writable.
    """
    try:
        storage = storage or get_storage()
        if is_s3(storage):
            return True, _check_s3(storage)
        return True, _check_local(storage)
    except Exception as exc:  # a probe reports; it never raises
        return True, {"status": "down", "error": exc.__class__.__name__}


def _probe_client(storage):
    """A client with the storage's endpoint and credentials but the probe's short limits.

    Kept on the storage object (one per process and alias) because building a boto3
    client costs tens of milliseconds and load balancers probe every few seconds.
    """
    probe = getattr(storage, "_portal_health_client", None)
    if probe is None:
        session = boto3.session.Session(
            aws_access_key_id=storage.access_key,
            aws_secret_access_key=storage.secret_key,
            aws_session_token=storage.security_token,
        )
        probe = session.client(
            "s3",
            region_name=storage.region_name,
            endpoint_url=storage.endpoint_url,
            use_ssl=storage.use_ssl,
            verify=storage.verify,
            config=storage.client_config.merge(_PROBE_CONFIG),
        )
        storage._portal_health_client = probe
    return probe


def _check_s3(storage) -> dict:
    probe = _probe_client(storage)
    try:
        probe.head_bucket(Bucket=storage.bucket_name)
    except storage_errors() as exc:
        return {"status": "down", "backend": "s3", "error": exc.__class__.__name__}
    return {"status": "ok", "backend": "s3"}


def _check_local(storage) -> dict:
    location = storage.location
    try:
        os.makedirs(location, mode=0o750, exist_ok=True)
    except OSError as exc:
        return {"status": "down", "backend": "local", "error": exc.__class__.__name__}
    if not os.access(location, os.W_OK | os.X_OK):
        return {"status": "down", "backend": "local", "error": "not writable"}
    return {"status": "ok", "backend": "local"}
