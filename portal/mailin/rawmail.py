"""Every accepted message kept exactly as read: in the attachment storage, with its sha256.

A message from a portal user that is about to become a ticket, a comment or a note is
stored before the transaction that writes it (store, then commit: docs/attachments.md);
its ledger row names the key, the digest and the size, and the ticket page links it for
the people who work the ticket (`/mail/<id>/raw`), so an agent can see what arrived: the
headers, the HTML, the files that were refused. Mail that writes nothing (auto-replies,
loops, strangers) is not kept: strangers could fill the storage.

Keys live under `mail/`, on the pending-object ledger until the row commits; the sweep
(`tasks.cleanup_pending_raw_mail`) deletes what a crash left, and `known_raw_keys` answers
the orphan sweep (ATTACHMENT_KEY_OWNERS).
"""

import contextlib
import hashlib
import io
import secrets
from collections.abc import Collection, Iterator

from django.utils import timezone

from portal.attachments.bounded import upload_deadline
from portal.attachments.cleanup import store_then_commit
from portal.attachments.storage import get_storage

PREFIX = "mail/"


def raw_key(*, mailbox_id: int, uidvalidity: int, uid: int) -> str:
    now = timezone.now()
    return f"{PREFIX}{mailbox_id}/{now:%Y/%m}/{uidvalidity}-{uid}-{secrets.token_hex(6)}.eml"


@contextlib.contextmanager
def kept(row, raw: bytes) -> Iterator[None]:
    """Store `raw` and set the row's raw_* fields; the block writes the row (its
    transaction takes the key off the pending ledger). If the block raises, the stored
    object is deleted again. No transaction may be open (StorageUnavailable when the
    storage fails: the message stays on the server for the next poll)."""
    with store_then_commit(get_storage(), deadline=upload_deadline()) as files:
        key = raw_key(mailbox_id=row.mailbox_id, uidvalidity=row.uidvalidity, uid=row.uid)
        row.raw_key = files.save(key, io.BytesIO(raw), content_type="message/rfc822")
        row.raw_sha256 = hashlib.sha256(raw).hexdigest()
        row.raw_size = len(raw)
        yield


def known_raw_keys(batch: list[str]) -> Collection[str]:
    """The keys in `batch` a ledger row refers to (for the orphan sweeps)."""
    from portal.mailin.models import InboundMessage

    return set(InboundMessage.objects.filter(raw_key__in=batch).values_list("raw_key", flat=True))
