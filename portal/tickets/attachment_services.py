"""Writes that carry files: raising a ticket, commenting, or adding files to a ticket.

Each wraps the plain service (`services.ticket_create`, `services.comment_add`) so that the
ticket or comment, its files, their Attachment rows and the history commit together, and
no database transaction is open while the storage is called:

1. every file sent is validated first (`validate_upload`), before anything is stored;
2. a refusal of any file refuses the whole request (`AttachmentsRefused`, nothing
   written) unless the person confirmed that refused files may be left out
   (`skip_refused=True`): then the others are stored and the refusals are returned;
3. the files are stored under generated keys, with no transaction open, within one
   deadline for the whole upload (ATTACHMENT_UPLOAD_SECONDS, shared by every file and
   retry): a storage that fails or hangs gives `AttachmentStorageFailed` (503) in time;
4. then one short transaction (`StoredFiles.committing`) writes the ticket or comment,
   the rows and the history; if it does not commit, the stored objects are deleted (best
   effort, bounded) and the orphan sweep removes anything left.

Keys: `tickets/{ticket_id}/…` for files added to an existing ticket; files sent with a new
ticket are stored before its id exists, under `tickets/new/…`.

Without files the plain services are called directly and never touch the storage.

`record`, when given, is called with the Outcome inside that same transaction: a caller
that must remember what it wrote (email in's message ledger) commits its row together with
the ticket or comment, or not at all.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.attachments.bounded import upload_deadline
from portal.attachments.cleanup import StoredFiles, delete_later, store_then_commit
from portal.attachments.names import storage_key
from portal.attachments.storage import StorageUnavailable, get_storage
from portal.attachments.validation import UploadRefused, ValidatedUpload, validate_upload
from portal.tickets import access, services
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketError
from portal.tickets.models import Attachment, Comment, Status, Ticket, TicketEvent

DEFAULT_PER_TICKET = 20
# The field of the ATTACHED history event; its new value lists the names attached.
EVENT_FIELD = "attachments"


def max_per_ticket() -> int:
    """ATTACHMENTS_PER_TICKET, read at call time (20 when the setting is absent)."""
    return int(getattr(settings, "ATTACHMENTS_PER_TICKET", DEFAULT_PER_TICKET))


class AttachmentsRefused(InvalidInput):
    """One or more files were refused and the person did not agree to leave them out.

    `refusals` holds one UploadRefused per refused file (its `str()` is
    "name: reason"); `accepted` names the files that passed, for the confirmation offer.
    """

    def __init__(self, refusals: list[UploadRefused], accepted: list[str]) -> None:
        count = len(refusals)
        super().__init__(
            f"{count} file{'s were' if count > 1 else ' was'} refused, so nothing was saved."
        )
        self.refusals, self.accepted = refusals, accepted


class TooManyAttachments(InvalidInput):
    """The ticket would have more files than ATTACHMENTS_PER_TICKET."""


class AttachmentStorageFailed(TicketError):
    """The storage could not take the files: nothing was saved, the person may retry."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            "The files could not be stored right now (the file storage is not answering), "
            "so nothing was saved. Your text is kept: try again in a moment, or send it "
            "without the files."
        )


@dataclass
class Outcome:
    """What a write with files did. `skipped`: refusals the person agreed to leave out."""

    ticket: Ticket
    comment: Comment | None = None
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[UploadRefused] = field(default_factory=list)
    # True when an idempotent re-submission found the ticket (or comment) the first one
    # wrote: nothing else was written.
    replayed: bool = False


def validate_all(
    files: Sequence[Any], *, skip_refused: bool
) -> tuple[list[ValidatedUpload], list[UploadRefused]]:
    """Validate every file (each one, not just the last); refuse the lot unless confirmed."""
    accepted: list[ValidatedUpload] = []
    refused: list[UploadRefused] = []
    for upload in files:
        try:
            accepted.append(validate_upload(upload.name, upload))
        except UploadRefused as refusal:
            refused.append(refusal)
    if refused and not skip_refused:
        names = [item.original_name for item in accepted]
        _close(accepted)
        raise AttachmentsRefused(refused, names)
    limit = max_per_ticket()
    if len(accepted) > limit:
        _close(accepted)
        raise TooManyAttachments(
            f"A ticket can have at most {limit} files; you sent {len(accepted)}. Nothing was saved."
        )
    return accepted, refused


def _close(uploads: list[ValidatedUpload]) -> None:
    for upload in uploads:
        upload.close()


@dataclass
class _Stored:
    upload: ValidatedUpload
    key: str


def _store_objects(
    stored: StoredFiles, prefix: list[str], uploads: list[ValidatedUpload]
) -> list[_Stored]:
    """Store every file under a generated key (no transaction open: see the module doc)."""
    try:
        return [
            _Stored(
                upload,
                stored.save(
                    storage_key(prefix, upload.safe_name),
                    upload.file,
                    content_type=upload.file.content_type,
                ),
            )
            for upload in uploads
        ]
    except StorageUnavailable as exc:
        raise AttachmentStorageFailed() from exc


def _check_room(ticket: Ticket, count: int) -> None:
    existing = Attachment.objects.filter(ticket=ticket).count()
    limit = max_per_ticket()
    if existing + count > limit:
        raise TooManyAttachments(
            f"A ticket can have at most {limit} files; {ticket.number} has {existing} and you "
            f"sent {count}. Nothing was saved."
        )


def _write_rows(
    *,
    ticket: Ticket,
    comment: Comment | None,
    uploader: User,
    objects: list[_Stored],
    internal: bool,
) -> list[Attachment]:
    """The rows of stored files and one history event (inside `committing()`)."""
    if not objects:  # all refused and left out: no files, no "attached" event
        return []
    _check_room(ticket, len(objects))
    now = timezone.now()
    rows = [
        Attachment(
            ticket=ticket,
            comment=comment,
            uploader=uploader,
            original_name=item.upload.original_name,
            storage_key=item.key,
            size=item.upload.size,
            # With the charset for text ("text/plain; charset=utf-8"), sent on download.
            content_type=item.upload.file.content_type,
            sha256=item.upload.sha256,
            created_at=now,
        )
        for item in objects
    ]
    Attachment.objects.bulk_create(rows)
    TicketEvent.objects.create(
        ticket=ticket,
        actor=uploader,
        kind=TicketEvent.Kind.ATTACHED,
        field=EVENT_FIELD,
        new_value=", ".join(row.original_name for row in rows),
        is_internal=internal,
        # Files do not make an editor's form stale: the version is not bumped.
        version=ticket.version,
        created_at=now,
    )
    return rows


def _first_submission(requester: User, key: uuid.UUID) -> Ticket | None:
    return Ticket.objects.filter(requester=requester, idempotency_key=key).first()


def ticket_create_with_files(
    *,
    requester: User,
    files: Sequence[Any] = (),
    skip_refused: bool = False,
    record: Callable[[Outcome], None] | None = None,
    **ticket_fields: Any,
) -> Outcome:
    """`services.ticket_create` with files, all committed together (see the module doc).

    A re-submission of the same form (same idempotency key) returns the first ticket and
    keeps nothing it stored: the first submission's files are already on it.
    """
    if not files:
        if record is None:
            # The service's own transaction is enough: a second one around it would only
            # add a savepoint (two statements) to every ticket raised.
            return Outcome(ticket=services.ticket_create(requester=requester, **ticket_fields))
        with transaction.atomic():
            outcome = Outcome(ticket=services.ticket_create(requester=requester, **ticket_fields))
            record(outcome)
        return outcome
    uploads, skipped = validate_all(files, skip_refused=skip_refused)
    key = ticket_fields.get("idempotency_key")
    try:
        first = _first_submission(requester, key) if key is not None else None
        if first is not None:  # known already: nothing to store
            return Outcome(ticket=first, replayed=True)
        with store_then_commit(get_storage(), deadline=upload_deadline()) as stored:
            objects = _store_objects(stored, ["tickets", "new"], uploads)
            with stored.committing():
                if key is not None:
                    # Serialise this person's submissions, so a double-clicked upload
                    # cannot slip past the lookup and attach its files to the first ticket.
                    User.objects.select_for_update().filter(pk=requester.pk).first()
                    first = _first_submission(requester, key)
                if first is None:
                    ticket = services.ticket_create(requester=requester, **ticket_fields)
                    rows = _write_rows(
                        ticket=ticket, comment=None, uploader=requester, objects=objects,
                        internal=False,
                    )  # fmt: skip
                    outcome = Outcome(ticket=ticket, attachments=rows, skipped=skipped)
                    if record is not None:
                        record(outcome)
            if first is not None:
                # The other copy won while this one was storing: its files are on the ticket.
                stored.discard()
                return Outcome(ticket=first, replayed=True)
    finally:
        _close(uploads)
    return outcome


def comment_add_with_files(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    files: Sequence[Any] = (),
    skip_refused: bool = False,
    record: Callable[[Outcome], None] | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> Outcome:
    """`services.comment_add` with files attached to the new comment, committed together.

    The files of an internal comment are as internal as the comment. The same comment sent
    again with its `idempotency_key` returns the first one and stores no file again (a
    resend that raced the first past the check below writes no rows; the sweep removes the
    objects it stored).
    """
    add = partial(
        services.comment_add_or_replay, actor=actor, ticket=ticket, body=body,
        internal=internal, idempotency_key=idempotency_key,
    )  # fmt: skip

    def outcome_of(added: services.CommentAdded, **files: Any) -> Outcome:
        # The ticket the service locked and checked, not the caller's `ticket`: a view may
        # pass an unread reference (views.ticket_action(read=False)).
        comment = added.comment
        return Outcome(ticket=comment.ticket, comment=comment, replayed=added.replayed, **files)

    if not files:
        if record is None:
            # The service's own transaction is enough (no savepoint inside a second one).
            return outcome_of(add())
        with transaction.atomic():
            outcome = outcome_of(add())
            record(outcome)
        return outcome
    if idempotency_key is not None and services.comment_sent_with(actor, idempotency_key):
        # Sent before: the first comment (or the refusal of a different one), no upload.
        return outcome_of(add())
    uploads, skipped = validate_all(files, skip_refused=skip_refused)
    try:
        # Checked before storing (nothing to upload for a refusal), and again on the
        # locked ticket row when the rows are written.
        if internal and not access.can_comment_internal(actor, ticket):
            raise ActionForbidden("Only people working this ticket can add internal comments.")
        if not access.can_comment(actor, ticket):
            raise ActionForbidden("You cannot comment on this ticket.")
        _check_room(ticket, len(uploads))
        with store_then_commit(get_storage(), deadline=upload_deadline()) as stored:
            objects = _store_objects(stored, ["tickets", str(ticket.pk)], uploads)
            with stored.committing():
                # comment_add locks the ticket row until this block commits, so the count
                # of its files in _write_rows cannot change underneath us.
                added = add()
                rows = [] if added.replayed else _write_rows(
                    ticket=ticket, comment=added.comment, uploader=actor, objects=objects,
                    internal=internal,
                )  # fmt: skip
                outcome = outcome_of(added, attachments=rows, skipped=skipped)
                if record is not None:
                    record(outcome)
    finally:
        _close(uploads)
    return outcome


def attachment_add(
    *, actor: User, ticket: Ticket, files: Sequence[Any], skip_refused: bool = False
) -> Outcome:
    """Add files to a ticket without a comment. Anyone who may comment may add files.

    Such files belong to the ticket, not to a comment, so they are never internal: an
    internal file needs an internal comment to go with it. Nobody is notified (a comment
    does that); the history records it.
    """
    if not files:
        raise InvalidInput("Choose at least one file.")
    uploads, skipped = validate_all(files, skip_refused=skip_refused)
    if not uploads:
        # Every file was refused: leaving them out leaves nothing to add.
        raise AttachmentsRefused(skipped, [])
    try:
        # Checked before storing, and again on the locked row below.
        if not access.can_comment(actor, ticket):
            raise ActionForbidden("You cannot add files to this ticket.")
        _check_room(ticket, len(uploads))
        with store_then_commit(get_storage(), deadline=upload_deadline()) as stored:
            objects = _store_objects(stored, ["tickets", str(ticket.pk)], uploads)
            with stored.committing():
                locked = access.get_ticket_for_user(actor, ticket.number, write=True)
                if not access.can_comment(actor, locked):
                    raise ActionForbidden("You cannot add files to this ticket.")
                rows = _write_rows(
                    ticket=locked, comment=None, uploader=actor, objects=objects,
                    internal=False,
                )  # fmt: skip
                # The ticket moved: lists sorted by activity show it first.
                locked.updated_at = timezone.now()
                locked.save(update_fields=["updated_at"])
    finally:
        _close(uploads)
    return Outcome(ticket=locked, attachments=rows, skipped=skipped)


def attachments_expire(*, closed_before: dt.datetime, batch: int) -> int:
    """Retention: delete up to `batch` files of tickets closed before `closed_before`;
    returns how many. Rows go in one short transaction with their keys put on the pending
    ledger, whose sweep deletes the objects from storage (no storage call here). Open,
    resolved and cancelled tickets keep their files; a closed ticket reopened later has
    none of the expired ones."""
    with transaction.atomic():
        rows = list(
            access.system_read(Attachment)
            .filter(ticket__status=Status.CLOSED, ticket__closed_at__lt=closed_before)
            .order_by("pk")
            .values_list("pk", "storage_key")[:batch]
        )
        if not rows:
            return 0
        delete_later([key for _pk, key in rows])
        Attachment.objects.filter(pk__in=[pk for pk, _key in rows]).delete()
    return len(rows)
