"""Leave nothing behind: store-then-commit, and sweeping objects no row refers to.

Storage and database cannot share a transaction. The order that loses nothing is: store
the bytes, then commit the row that points at them. What can go wrong in between is a
stored object without a row (an orphan), never a row without its object. Two tools:

- `store_then_commit()`: runs the caller's database work in a transaction and deletes
  every object stored inside it if that transaction does not commit;
- `delete_orphans()`: for what slipped through anyway (a worker killed between store and
  commit, a storage outage during the delete), removes objects older than an hour that no
  row refers to. The owner app answers "which of these keys do you know?".
"""

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.core.files.storage import Storage
from django.db import transaction

from portal.attachments.storage import is_s3, save_file, storage_errors, translated_errors

log = logging.getLogger("portal.attachments")

DEFAULT_ORPHAN_AGE = dt.timedelta(hours=1)
_BATCH = 500


# --- Store, then commit -------------------------------------------------------------------


class StoredFiles:
    """The objects stored during one `store_then_commit()` block."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self.keys: list[str] = []

    def save(self, key: str, content: IO[bytes]) -> str:
        """Store a file (StorageUnavailable if that fails); return the key actually used."""
        stored = save_file(self.storage, key, content)
        self.keys.append(stored)
        return stored

    def discard(self) -> None:
        """Delete what was stored. Failures are logged: the orphan sweep removes the rest."""
        for key in self.keys:
            try:
                self.storage.delete(key)
            except storage_errors():
                log.warning("could not delete stored attachment after rollback", extra={"key": key})
        self.keys.clear()


@contextlib.contextmanager
def store_then_commit(storage: Storage, *, using: str | None = None) -> Iterator[StoredFiles]:
    """Open a transaction; if it does not commit, delete every file stored through it.

        with store_then_commit(get_storage()) as files:
            comment = comment_add(...)                      # rows, in the transaction
            key = files.save(storage_key(...), upload.file)  # bytes, outside it
            Attachment.objects.create(comment=comment, storage_key=key, ...)

    Any exception inside the block, or from the COMMIT itself, rolls back the rows and
    deletes the objects, then propagates. The transaction is `durable`: opening this
    inside another `atomic()` raises RuntimeError, because an outer rollback after this
    block ended could not be seen (Django has no on-rollback hook) and would leave the
    objects behind.
    """
    files = StoredFiles(storage)
    try:
        with transaction.atomic(using=using, durable=True):
            yield files
    except BaseException:
        files.discard()
        raise


# --- Listing and sweeping -----------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified: dt.datetime  # aware, UTC


def iter_stored(storage: Storage, prefix: str) -> Iterator[StoredObject]:
    """Every stored object whose key starts with `prefix` (a folder such as `tickets/`)."""
    if is_s3(storage):
        yield from _iter_s3(storage, prefix)
    else:
        yield from _iter_local(storage, prefix)


def _iter_s3(storage, prefix: str) -> Iterator[StoredObject]:
    # One LIST call per 1,000 keys with their timestamps: no HEAD request per object.
    client = storage.connection.meta.client
    with translated_errors("list files"):
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=storage.bucket_name, Prefix=prefix
        )
        for page in pages:
            for entry in page.get("Contents", ()):
                yield StoredObject(entry["Key"], entry["LastModified"].astimezone(dt.UTC))


def _iter_local(storage, prefix: str) -> Iterator[StoredObject]:
    root = storage.path("")
    start = storage.path(prefix.rstrip("/")) if prefix.rstrip("/") else root
    if not os.path.isdir(start):
        return
    for folder, _dirs, files in os.walk(start):
        for filename in files:
            full = os.path.join(folder, filename)
            key = os.path.relpath(full, root).replace(os.sep, "/")
            if not key.startswith(prefix):
                continue
            modified = dt.datetime.fromtimestamp(os.stat(full).st_mtime, tz=dt.UTC)
            yield StoredObject(key, modified)


def stale_keys(
    storage: Storage,
    prefix: str,
    *,
    older_than: dt.timedelta = DEFAULT_ORPHAN_AGE,
    now: dt.datetime | None = None,
) -> Iterator[str]:
    """Keys under `prefix` last written more than `older_than` ago.

    The age guard protects uploads in flight: an object stored a second ago whose row
    is not committed yet looks exactly like an orphan.
    """
    cutoff = (now or dt.datetime.now(dt.UTC)) - older_than
    for stored in iter_stored(storage, prefix):
        if stored.modified < cutoff:
            yield stored.key


KnownKeys = Callable[[list[str]], Collection[str]] | Collection[str]


@dataclass
class CleanupReport:
    """What a sweep found and did. With `dry_run`, `deleted` lists what would go."""

    examined: int = 0
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def delete_orphans(
    storage: Storage,
    prefix: str,
    *,
    known: KnownKeys,
    older_than: dt.timedelta = DEFAULT_ORPHAN_AGE,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> CleanupReport:
    """Delete objects under `prefix`, older than `older_than`, whose key is not known.

    `known` is either a collection of keys, or a callable given a batch of candidate keys
    (at most 500) that returns those a row refers to: the owner can answer with one
    indexed query per batch instead of loading millions of keys.
    """
    report = CleanupReport()
    for batch in _batches(stale_keys(storage, prefix, older_than=older_than, now=now)):
        report.examined += len(batch)
        referenced = set(known(batch) if callable(known) else known)
        for key in batch:
            if key in referenced:
                continue
            if dry_run:
                report.deleted.append(key)
                continue
            try:
                storage.delete(key)
            except storage_errors():
                log.warning("could not delete orphan attachment", extra={"key": key})
                report.failed.append(key)
            else:
                report.deleted.append(key)
    return report


def _batches(keys: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
