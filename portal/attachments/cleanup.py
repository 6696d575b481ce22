"""Leave nothing behind: store, then commit; and sweep objects no row refers to.

Storage and database cannot share a transaction, and no network call may happen while a
transaction is open (a hung storage would hold its row locks and stall people who never
touched a file). The order that loses nothing is: store the bytes under generated keys,
then commit the rows that point at them in one short transaction. What can go wrong in
between is a stored object without a row (an orphan), never a row without its object:

- `store_then_commit()`: the objects stored inside it are deleted (best effort, within
  DISCARD_SECONDS) unless its `committing()` transaction committed;
- a ledger (`models.PendingObject`): a row per key, written before its object is stored
  and deleted in the transaction that commits the rows referring to it, so every upload
  that did not complete (a storage outage during the delete, a worker killed between
  store and commit, a PUT that timed out but landed) is on record;
- `delete_pending()`: the frequent sweep, from the ledger: objects pending for longer than
  the sweep age (ATTACHMENT_ORPHAN_MINUTES) that no row refers to are deleted. One indexed
  query, no listing of the bucket;
- `delete_orphans()`: the rare backstop, listing the bucket: objects older than the sweep
  age that no row refers to (whatever left them). The owner app answers "which of these
  keys do you know?".
"""

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.files.storage import Storage
from django.db import DatabaseError, transaction
from django.utils import timezone

from portal.attachments.models import PendingObject
from portal.attachments.storage import (
    StorageUnavailable,
    delete_file,
    is_s3,
    refuse_inside_transaction,
    save_file,
    translated_errors,
)

log = logging.getLogger("portal.attachments")

DEFAULT_ORPHAN_MINUTES = 15
# Younger objects may belong to uploads whose rows are not committed yet: an upload's
# storing is bounded (ATTACHMENT_UPLOAD_SECONDS) and its rows are refused when their
# objects are older than COMMIT_WINDOW_SECONDS, so two minutes cannot catch one in flight.
MINIMUM_ORPHAN_MINUTES = 2
COMMIT_WINDOW_SECONDS = 60
_BATCH = 500


def orphan_age() -> dt.timedelta:
    """ATTACHMENT_ORPHAN_MINUTES (default 15, at least 2), read at call time."""
    minutes = int(getattr(settings, "ATTACHMENT_ORPHAN_MINUTES", DEFAULT_ORPHAN_MINUTES))
    return dt.timedelta(minutes=max(minutes, MINIMUM_ORPHAN_MINUTES))


# --- Store, then commit -------------------------------------------------------------------


class StoredTooLongAgo(StorageUnavailable):
    """The rows came too late for their objects: the sweep may already be removing them."""


class StoredFiles:
    """The objects stored for one write, and the short transaction that records them."""

    def __init__(self, storage: Storage, *, deadline=None):
        self.storage = storage
        # Shared by every file stored through this object (S3): see bounded.Deadline.
        self.deadline = deadline
        self.keys: list[str] = []
        self.committed = False
        self._first_stored: float | None = None

    def save(self, key: str, content: IO[bytes], *, content_type: str = "") -> str:
        """Store a file (StorageUnavailable if that fails); return the key actually used.

        RuntimeError inside a database transaction: store first, then `committing()`.
        The key is on the ledger before the object is stored (a PUT that timed out may
        still have landed): if this upload does not complete, the sweep deletes it.
        """
        refuse_inside_transaction("store a file")
        if self._first_stored is None:
            self._first_stored = time.monotonic()
        _pending(key)
        stored = save_file(
            self.storage, key, content, deadline=self.deadline, content_type=content_type
        )
        if stored != key:  # the key was taken: the ledger follows the one used
            _pending(stored)
            PendingObject.objects.filter(key=key).delete()
        self.keys.append(stored)
        return stored

    @contextlib.contextmanager
    def committing(self, *, using: str | None = None) -> Iterator[None]:
        """The one short transaction that writes the rows for the stored objects.

        Outermost (`durable`): an outer transaction could still roll back after this
        block, and Django has no on-rollback hook to delete the objects then. Rows for
        objects stored more than COMMIT_WINDOW_SECONDS ago are refused (StoredTooLongAgo,
        rolled back): the sweep only spares younger objects.
        """
        with transaction.atomic(using=using, durable=True):
            yield
            if self._first_stored is not None:
                age = time.monotonic() - self._first_stored
                if age > COMMIT_WINDOW_SECONDS:
                    raise StoredTooLongAgo(
                        f"Attachment rows refused: their objects were stored {age:.0f} s ago"
                    )
            # Off the ledger together with the rows that now refer to them.
            PendingObject.objects.filter(key__in=self.keys).delete()
        self.committed = True

    def discard(self) -> None:
        """Delete what was stored, within DISCARD_SECONDS in all; the sweep removes the rest.

        Failures are logged, never raised: the error that made us discard matters more.
        """
        from portal.attachments import bounded

        deadline = bounded.Deadline(bounded.DISCARD_SECONDS)
        for key in self.keys:
            if is_s3(self.storage) and deadline.remaining() < bounded.MIN_ATTEMPT_SECONDS:
                log.warning("left a stored attachment for the orphan sweep", extra={"key": key})
                continue
            try:
                delete_file(self.storage, key, deadline=deadline)
            except StorageUnavailable:
                log.warning("could not delete stored attachment after rollback", extra={"key": key})
                continue
            try:
                PendingObject.objects.filter(key=key).delete()
            except DatabaseError:  # the database failing is what we are cleaning up after
                log.warning(
                    "could not take a deleted attachment off the ledger", extra={"key": key}
                )
        self.keys.clear()


def _pending(key: str) -> None:
    PendingObject.objects.get_or_create(key=key, defaults={"created_at": timezone.now()})


def delete_later(keys: Collection[str], *, now: dt.datetime | None = None) -> None:
    """Put the objects of rows being deleted in this transaction on the ledger: the pending
    sweep (`delete_pending`) deletes them from storage once no row refers to them. Rows go
    at once, inside the caller's transaction; the storage is never called inside it."""
    created_at = (now or timezone.now()) - orphan_age()  # due at the next sweep
    PendingObject.objects.bulk_create(
        [PendingObject(key=key, created_at=created_at) for key in keys], ignore_conflicts=True
    )


@contextlib.contextmanager
def store_then_commit(storage: Storage, *, deadline=None) -> Iterator[StoredFiles]:
    """Store objects, then commit their rows; if the rows do not commit, delete the objects.

        with store_then_commit(get_storage()) as files:
            key = files.save(storage_key(...), upload.file)  # no transaction open
            with files.committing():                        # one short transaction
                comment = comment_add(...)
                Attachment.objects.create(comment=comment, storage_key=key, ...)

    Any exception in the block before `committing()` has committed (the storage failing,
    the database refusing, the COMMIT itself failing) deletes every object stored, then
    propagates. `files.save` inside a transaction raises RuntimeError.
    """
    files = StoredFiles(storage, deadline=deadline)
    try:
        yield files
    except BaseException:
        if not files.committed:
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
    older_than: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> Iterator[str]:
    """Keys under `prefix` last written more than `older_than` (default: the sweep age) ago.

    The age guard protects uploads in flight: an object stored a second ago whose row
    is not committed yet looks exactly like an orphan.
    """
    cutoff = (now or dt.datetime.now(dt.UTC)) - (orphan_age() if older_than is None else older_than)
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
    older_than: dt.timedelta | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> CleanupReport:
    """Delete objects under `prefix`, older than `older_than` (default: the sweep age,
    ATTACHMENT_ORPHAN_MINUTES), whose key is not known.

    `known` is either a collection of keys, or a callable given a batch of candidate keys
    (at most 500) that returns those a row refers to: the owner can answer with one
    indexed query per batch instead of loading millions of keys.
    """
    report = CleanupReport()
    for batch in _batches(stale_keys(storage, prefix, older_than=older_than, now=now)):
        report.examined += len(batch)
        referenced = set(known(batch) if callable(known) else known)
        for key in batch:
            if key not in referenced:
                _delete(storage, key, report, dry_run=dry_run, what="orphan attachment")
    return report


def _delete(storage: Storage, key: str, report: CleanupReport, *, dry_run: bool, what: str) -> bool:
    """Delete one unreferenced object (a dry run only records it), within the storage's
    bounded time; False when the storage failed (the key is then in `report.failed`)."""
    if not dry_run:
        try:
            delete_file(storage, key)
        except StorageUnavailable:
            log.warning(f"could not delete {what}", extra={"key": key})
            report.failed.append(key)
            return False
    report.deleted.append(key)
    return True


def delete_pending(
    storage: Storage,
    prefix: str,
    *,
    known: KnownKeys,
    older_than: dt.timedelta | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> CleanupReport:
    """Delete the objects of uploads that never completed: ledger rows under `prefix`
    older than `older_than` (default: the sweep age) whose key no row refers to.

    Reads the ledger (one indexed query per 500 keys), never lists the bucket. A key a row
    does refer to only leaves the ledger. A failed delete stays on it for the next run;
    after the first failure the run stops (the storage is down: the rest would fail too).
    """
    report = CleanupReport()
    cutoff = (now or timezone.now()) - (orphan_age() if older_than is None else older_than)
    pending = PendingObject.objects.filter(key__startswith=prefix, created_at__lt=cutoff)
    last_id = 0
    while True:
        rows = list(pending.filter(id__gt=last_id).order_by("id").values_list("id", "key")[:_BATCH])
        if not rows:
            return report
        last_id = rows[-1][0]
        batch = [key for _id, key in rows]
        report.examined += len(batch)
        referenced = set(known(batch) if callable(known) else known)
        for key in batch:
            if key not in referenced:
                deleted = _delete(storage, key, report, dry_run=dry_run, what="pending attachment")
                if not deleted:
                    return report  # the storage is down: the rest would fail too
            if not dry_run:
                PendingObject.objects.filter(key=key).delete()


def _batches(keys: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
