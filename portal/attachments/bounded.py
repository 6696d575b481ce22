"""S3 calls bounded by one deadline shared by everything a request asks of the storage.

botocore's own limits are per call: a read timeout of 10 s, retried once, is 20 s for one
file and 40 s for two, past gunicorn's 30 s worker timeout. Here a `Deadline` is started
once (per upload, per download check, per health probe) and every attempt of every call
gets a client whose connect and read timeouts are cut to what is left of it, with
botocore's own retries off: the retries are ours, and stop when the time is spent.

Clients come from one boto3 session per storage object and thread (a session loads the
service model once; a client from it costs a few milliseconds).
"""

import mimetypes
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from django.conf import settings

from portal.attachments.storage import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_READ_TIMEOUT,
    StorageUnavailable,
    refuse_inside_transaction,
    storage_errors,
)

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

# The whole upload of one request (every file, every attempt): its 503 comes within this,
# plus DISCARD_SECONDS to delete what was stored, well inside the 15 s the portal promises
# and gunicorn's 30 s worker timeout.
DEFAULT_UPLOAD_SECONDS = 10
MAX_UPLOAD_SECONDS = 12
# Deleting what a failed upload stored: best effort, the orphan sweep removes the rest.
DISCARD_SECONDS = 2
# The check a download makes before redirecting to the bucket, and the health probe.
DOWNLOAD_CHECK_SECONDS = 3
PROBE_SECONDS = 2
# Less than this left: another attempt could not finish, so it is not started.
MIN_ATTEMPT_SECONDS = 0.25
_BACKOFF_SECONDS = 0.2
_BACKOFF_MAX_SECONDS = 1.0


@dataclass
class Deadline:
    """A time budget, counted from its creation (monotonic clock)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return max(0.0, self.started + self.seconds - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def upload_deadline() -> Deadline:
    """ATTACHMENT_UPLOAD_SECONDS from now: the budget of one request's upload."""
    seconds = getattr(settings, "ATTACHMENT_UPLOAD_SECONDS", DEFAULT_UPLOAD_SECONDS)
    return Deadline(min(float(seconds), MAX_UPLOAD_SECONDS))


_sessions = threading.local()


def _session(storage) -> boto3.session.Session:
    """One boto3 session per thread and set of credentials.

    Sessions are not thread-safe (gunicorn's sync workers have one thread; tests run
    requests in several), and a fresh one loads the S3 service model again (most of a
    second on a busy machine): kept, a client from it costs milliseconds.
    """
    credentials = (storage.access_key, storage.secret_key, storage.security_token)
    cache = _sessions.__dict__.setdefault("by_credentials", {})
    session = cache.get(credentials)
    if session is None:
        session = cache[credentials] = boto3.session.Session(
            aws_access_key_id=storage.access_key,
            aws_secret_access_key=storage.secret_key,
            aws_session_token=storage.security_token,
        )
    return session


def _configured(storage) -> tuple[float, float, int]:
    """The storage's own connect and read timeouts and attempts (the upper limits)."""
    config = storage.client_config
    connect = config.connect_timeout or DEFAULT_CONNECT_TIMEOUT
    read = config.read_timeout or DEFAULT_READ_TIMEOUT
    attempts = (config.retries or {}).get("total_max_attempts") or DEFAULT_MAX_ATTEMPTS
    return float(connect), float(read), int(attempts)


# Timeouts are rounded down to this step, so the clients of one request are reused (with
# their open connections) until what is left of its budget drops below the next step.
_TIMEOUT_STEP = 0.5
_MAX_CLIENTS = 32


def _floor(seconds: float) -> float:
    return max(0.1, int(seconds / _TIMEOUT_STEP) * _TIMEOUT_STEP)


def client_for(storage: "S3Storage", remaining: float, *, connect: float, read: float):
    """A client whose timeouts end by `remaining` seconds from now, with no own retries.

    A new client costs ~25 ms of CPU; twenty files would spend a second of the budget on
    them. Clients are kept per thread, by everything that tells them apart.
    """
    connect_timeout = _floor(min(connect, remaining))
    read_timeout = _floor(min(read, remaining))
    config = storage.client_config
    key = (
        storage.access_key,
        storage.secret_key,
        storage.security_token,
        storage.endpoint_url,
        storage.region_name,
        storage.use_ssl,
        str(storage.verify),
        config.signature_version,
        repr(config.s3),
        config.request_checksum_calculation,
        connect_timeout,
        read_timeout,
    )
    clients = _sessions.__dict__.setdefault("clients", {})
    client = clients.get(key)
    if client is None:
        if len(clients) >= _MAX_CLIENTS:
            clients.clear()
        client = clients[key] = _session(storage).client(
            "s3",
            region_name=storage.region_name,
            endpoint_url=storage.endpoint_url,
            use_ssl=storage.use_ssl,
            verify=storage.verify,
            config=config.merge(
                Config(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    retries={"mode": "standard", "total_max_attempts": 1},
                )
            ),
        )
    return client


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _retryable(exc: BaseException) -> bool:
    """Timeouts, refused or dropped connections, 5xx and throttling: worth another try."""
    status = _status(exc)
    if status is None:
        return True  # no answer at all: connection refused, reset or timed out
    return status >= 500 or status == 429


def call[T](
    storage: "S3Storage",
    deadline: Deadline,
    action: str,
    operation: Callable[[Any], T],
    *,
    attempts: int | None = None,
) -> T:
    """Run `operation(client)` until it succeeds, fails for good, or the deadline passes.

    Raises FileNotFoundError for a 404 answer, StorageUnavailable for everything else that
    went wrong (the last error chained), and RuntimeError inside a database transaction:
    every S3 call of the portal (uploads, deletes, download checks, sweeps, the health
    probe) comes through here, so none can hold a transaction's locks while it waits.
    """
    refuse_inside_transaction(action)
    connect, read, configured_attempts = _configured(storage)
    attempts = attempts or configured_attempts
    last: BaseException | None = None
    for attempt in range(attempts):
        remaining = deadline.remaining()
        if remaining < MIN_ATTEMPT_SECONDS:
            break
        try:
            return operation(client_for(storage, remaining, connect=connect, read=read))
        except storage_errors() as exc:
            if _status(exc) == 404:
                raise FileNotFoundError(action) from exc
            last = exc
            if not _retryable(exc):
                break
        pause = min(_BACKOFF_SECONDS * 2**attempt, _BACKOFF_MAX_SECONDS)
        if attempt + 1 < attempts and deadline.remaining() - pause >= MIN_ATTEMPT_SECONDS:
            time.sleep(pause)
    reason = f"{last}" if last is not None else f"no time left after {deadline.seconds:g} s"
    raise StorageUnavailable(f"Attachment storage failed to {action}: {reason}") from last


def exists(storage, key: str, deadline: Deadline, *, action: str = "check a file") -> bool:
    try:
        call(
            storage,
            deadline,
            action,
            lambda client: client.head_object(Bucket=storage.bucket_name, Key=key),
        )
    except FileNotFoundError:
        return False
    return True


def put_new(
    storage, key: str, content: IO[bytes], deadline: Deadline, *, content_type: str = ""
) -> str:
    """Store `content` under `key`, or under a free variant of it; return the key used.

    As django-storages' `file_overwrite=False`, an existing object is never replaced: a
    HEAD first, and a taken key (vanishingly rare with 64 random bits) gets a suffix.
    """
    name = key
    while exists(storage, name, deadline, action="store a file"):
        name = storage.get_alternative_name(*os.path.splitext(key))
    # The object's own type (the sniffed one when given): what a plain GET would send.
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"

    def put(client):
        content.seek(0)  # each attempt sends the whole file again
        return client.put_object(
            Bucket=storage.bucket_name, Key=name, Body=content, ContentType=content_type
        )

    call(storage, deadline, "store a file", put)
    return name


def delete(storage, key: str, deadline: Deadline, *, attempts: int | None = None) -> None:
    """Delete `key`; a key that is not there is not an error (S3 answers 204 anyway)."""
    try:
        call(
            storage,
            deadline,
            "delete a file",
            lambda client: client.delete_object(Bucket=storage.bucket_name, Key=key),
            attempts=attempts,
        )
    except FileNotFoundError:
        return
