"""Where attachment bytes live: the `STORAGES["attachments"]` entry and storage errors.

Two set-ups, chosen by the environment (see `storages_from_env`):
- embedded default: files under `VAR_DIR/attachments`, served by no URL;
- Cloudflare R2 (or any S3-compatible service) when the four `R2_*` names are set: a
  private bucket reached through django-storages' S3 backend, downloads by presigned URL.

This module is imported by settings.py, so it must not touch Django settings or models at
import time.
"""

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeIs

from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage

from portal.lib import db
from portal.lib.env import env_int, env_str

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

STORAGE_ALIAS = "attachments"
# Presigned download URLs live at most this long: long enough to start a download, short
# enough that a copied link stops working before it can travel far.
MAX_URL_EXPIRY_SECONDS = 300
# Upper limits of each call (botocore's defaults: 60 s read timeout, retried: minutes).
# Uploads, download checks and the health probe also share one deadline per request
# (`portal.attachments.bounded`), which cuts these to what is left of it.
DEFAULT_CONNECT_TIMEOUT = 3
DEFAULT_READ_TIMEOUT = 10
DEFAULT_MAX_ATTEMPTS = 2
R2_REQUIRED = ("R2_ENDPOINT", "R2_BUCKET_NAME", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY")


class StorageUnavailable(Exception):
    """The storage could not be reached, timed out or refused the request.

    Callers turn it into a message ("attachments cannot be stored right now") and write no
    row; the original error is chained as `__cause__` for the log.
    """


class PrivateFileSystemStorage(FileSystemStorage):
    """Local attachment files that have no public URL: downloads go through the portal."""

    def url(self, name: str | None) -> str:
        raise NotImplementedError(
            "Attachments have no public URL; use portal.attachments.downloads.download_response."
        )


def local_storage_config(var_dir: str | Path) -> dict[str, Any]:
    """Files under `var_dir/attachments`, readable by the portal's user only."""
    return {
        "BACKEND": "portal.attachments.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": str(Path(var_dir) / "attachments"),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }


def client_config(
    *,
    addressing_style: str = "path",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Config:
    """botocore settings for an S3-compatible endpoint such as Cloudflare R2.

    - Bounded timeouts and attempts: botocore's default 60 s read timeout (with retries)
      would let one hanging endpoint hold a web worker for minutes; see the defaults above.
    - Checksums only "when required": since botocore 1.36 every PutObject carries
      `x-amz-checksum-crc32`/`x-amz-sdk-checksum-algorithm` headers (or an aws-chunked
      trailer), which Cloudflare R2 has answered with 501 Not Implemented.
    - SigV4, and path-style addressing by default (`endpoint/bucket/key`), which R2 and a
      loopback test server both accept without DNS for `bucket.endpoint`.
    """
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def s3_storage_config(
    *,
    endpoint_url: str,
    bucket_name: str,
    access_key: str,
    secret_key: str,
    region_name: str = "auto",
    addressing_style: str = "path",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    url_expiry_seconds: int = MAX_URL_EXPIRY_SECONDS,
) -> dict[str, Any]:
    """The django-storages S3 backend for a private bucket. See docs/attachments.md."""
    if not 1 <= url_expiry_seconds <= MAX_URL_EXPIRY_SECONDS:
        raise ImproperlyConfigured(
            f"Attachment download links must expire within {MAX_URL_EXPIRY_SECONDS} seconds; "
            f"got {url_expiry_seconds}"
        )
    if addressing_style not in {"path", "virtual", "auto"}:
        raise ImproperlyConfigured(
            f"R2_ADDRESSING_STYLE must be path, virtual or auto; got {addressing_style!r}"
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": endpoint_url,
            "bucket_name": bucket_name,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": region_name,
            # No ACL header: objects inherit the bucket's (private) default. Never
            # "public-read": a public object can be fetched by anyone who learns its key.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": url_expiry_seconds,
            # Never replace an existing object: a taken key gets a new suffix instead.
            "file_overwrite": False,
            # R2_PUBLIC_URL is deliberately not passed as custom_domain (see docs).
            "custom_domain": None,
            "client_config": client_config(
                addressing_style=addressing_style,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_attempts=max_attempts,
            ),
        },
    }


def storages_from_env(var_dir: str | Path, environ: Mapping[str, str] | None = None) -> dict:
    """The `STORAGES["attachments"]` entry for this environment.

    All four R2 names set: the private bucket. None set: local files. Some set: an
    ImproperlyConfigured naming the missing ones, at start-up rather than at first upload.
    `R2_PUBLIC_URL` is read (it is in the seed's configuration) and deliberately unused.
    """
    get = _reader(environ)
    present = {name: get(name) for name in R2_REQUIRED}
    missing = [name for name, value in present.items() if not value]
    if len(missing) == len(R2_REQUIRED):
        return local_storage_config(var_dir)
    if missing:
        raise ImproperlyConfigured(
            "Attachment storage on R2 needs all of "
            + ", ".join(R2_REQUIRED)
            + "; missing: "
            + ", ".join(missing)
        )
    # R2_PUBLIC_URL (in the seed's configuration, still listed in .env.example) is left
    # unused on purpose: serving from a public bucket domain would bypass the portal's
    # access checks, so every download is a presigned URL minted after those checks.
    return s3_storage_config(
        endpoint_url=present["R2_ENDPOINT"],
        bucket_name=present["R2_BUCKET_NAME"],
        access_key=present["R2_ACCESS_KEY_ID"],
        secret_key=present["R2_SECRET_ACCESS_KEY"],
        region_name=get("R2_REGION") or "auto",
        addressing_style=get("R2_ADDRESSING_STYLE") or "path",
        connect_timeout=_int(
            environ, "ATTACHMENT_STORAGE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
        ),
        read_timeout=_int(environ, "ATTACHMENT_STORAGE_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
        max_attempts=_int(environ, "ATTACHMENT_STORAGE_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
        url_expiry_seconds=_int(environ, "ATTACHMENT_DOWNLOAD_URL_SECONDS", 300),
    )


def _reader(environ: Mapping[str, str] | None):
    if environ is None:
        return env_str
    return lambda name: environ.get(name, "").strip()


def _int(environ: Mapping[str, str] | None, name: str, default: int) -> int:
    if environ is None:
        return env_int(name, default, minimum=1)
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1; got {value}")
    return value


def get_storage() -> Storage:
    """The configured attachments storage (`STORAGES["attachments"]`)."""
    from django.core.files.storage import storages

    return storages[STORAGE_ALIAS]


def is_s3(storage: Storage) -> TypeIs["S3Storage"]:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def storage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the storage failed", as opposed to a bug in our code."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error, OSError)


@contextlib.contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Re-raise storage failures as StorageUnavailable (the cause stays chained)."""
    try:
        yield
    except StorageUnavailable:
        raise
    except FileNotFoundError:
        raise
    except storage_errors() as exc:
        raise StorageUnavailable(f"Attachment storage failed to {action}: {exc}") from exc


def refuse_inside_transaction(action: str) -> None:
    """No storage call while a transaction is open: a hung storage would hold its locks."""
    db.refuse_inside_transaction(
        action,
        "store first, then write the rows in a short transaction (see docs/attachments.md).",
    )


def save_file(
    storage: Storage, key: str, content: IO[bytes], *, deadline=None, content_type: str = ""
) -> str:
    """Store `content` under `key`; return the key actually used (never an existing one).

    Both backends refuse to overwrite: if `key` is taken (vanishingly rare with the random
    part of `names.storage_key`) a suffix is added, so always record the returned key.
    On S3 every attempt ends by `deadline` (a `bounded.Deadline`; ATTACHMENT_UPLOAD_SECONDS
    from now when not given). Refuses to run inside a database transaction.
    """
    refuse_inside_transaction("store a file")
    if is_s3(storage):
        from portal.attachments import bounded

        deadline = deadline or bounded.upload_deadline()
        return bounded.put_new(storage, key, content, deadline, content_type=content_type)
    with translated_errors("store a file"):
        return storage.save(key, content)


def delete_file(storage: Storage, key: str, *, deadline=None) -> None:
    """Delete `key` (gone already is fine); StorageUnavailable if the storage fails."""
    if is_s3(storage):
        from portal.attachments import bounded

        bounded.delete(storage, key, deadline or bounded.Deadline(bounded.DISCARD_SECONDS))
        return
    with translated_errors("delete a file"):
        storage.delete(key)
