"""Reading a support mailbox over IMAP (imap-tools): fetch, then write, then move.

For each mailbox, one connection with a bounded timeout (INBOUND_IMAP_TIMEOUT, applied to
every socket read, so a server that stops answering costs at most that). Per message:

1. a message the ledger already knows at this (UIDVALIDITY, UID) is not even fetched: it
   was written before a crash or a failed move, and only its move is still owed;
2. otherwise its raw bytes are fetched (BODY.PEEK: it stays unread for people who look at
   the mailbox) with no database transaction open;
3. `inbound_message_process` writes what it makes and its ledger row in one transaction;
4. after the batch, every processed message is moved to the processed folder in one
   command: mail is never deleted. A crash before the move leaves messages in the folder;
   the next poll finds them in the ledger (step 1) and only moves them.

So a crash anywhere loses nothing (the mail is still on the server until the move) and
doubles nothing (the ledger's unique position and content hash).
"""

import datetime as dt
import imaplib
import logging
import re
import socket
import ssl
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import encode_folder

from portal.attachments.storage import StorageUnavailable
from portal.lib.db import DATABASE_ERRORS
from portal.mailin import oauth, services
from portal.mailin.models import InboundMessage, Mailbox
from portal.tickets.errors import TicketError

log = logging.getLogger("portal.mailin")
IMAP_ERRORS = (ImapToolsError, imaplib.IMAP4.error, OSError, ssl.SSLError, socket.timeout, EOFError)


@dataclass
class PollResult:
    outcomes: Counter = field(default_factory=Counter)
    moved: int = 0
    error: str = ""


def connect(mailbox: Mailbox, *, now: dt.datetime | None = None) -> BaseMailBox:
    timeout = int(getattr(settings, "INBOUND_IMAP_TIMEOUT", 30))
    # A Microsoft 365 token first: no IMAP connection waits on the identity platform.
    token = _m365_token(mailbox, now or timezone.now()) if _is_m365(mailbox) else ""
    box: BaseMailBox
    if mailbox.security == Mailbox.Security.SSL:
        box = MailBox(mailbox.host, mailbox.port, timeout=timeout)
    elif mailbox.security == Mailbox.Security.STARTTLS:
        box = MailBoxStartTls(mailbox.host, mailbox.port, timeout=timeout)
    else:
        box = MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=timeout)
    try:
        if token:
            box.xoauth2(mailbox.username, token, initial_folder=None)
        else:
            box.login(mailbox.username, mailbox.password, initial_folder=None)
        refresh_capabilities(box)
        return box
    except BaseException:
        box.client.shutdown()  # a refused login must not leave the connection open
        if token:
            # Refused (revoked, or the permission was taken away): ask for a new one next time.
            services.mailbox_token_forget(mailbox=mailbox)
        raise


def refresh_capabilities(box: BaseMailBox) -> None:
    """What the server offers once signed in. imaplib keeps the list of the greeting,
    before login, where servers leave out MOVE and UIDPLUS (Dovecot and pymap both do):
    without asking again, every move would be a copy and a folder-wide EXPUNGE."""
    typ, data = box.client.capability()
    if typ == "OK" and data and isinstance(data[-1], bytes):
        box.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def move_processed(box: BaseMailBox, uids: list[int], folder: str) -> None:
    """Move messages to the processed folder, never deleting mail the portal did not read.

    MOVE (RFC 6851) when the server offers it: atomic, a crash leaves the message in one
    folder. Otherwise COPY, then flag exactly these messages \\Deleted and expunge exactly
    them with UID EXPUNGE (UIDPLUS, RFC 4315). A server with neither only has the plain
    EXPUNGE, which also removes what someone else flagged \\Deleted in the folder (any mail
    client's move does the same there). A crash after the COPY leaves a copy in both
    folders: the ledger knows the message, so the next poll only moves it again."""
    capabilities = set(box.client.capabilities)
    target = encode_folder(folder).decode("ascii")  # modified UTF-7, quoted
    for start in range(0, len(uids), 100):
        chunk = ",".join(str(uid) for uid in uids[start : start + 100])
        if "MOVE" in capabilities:
            _ok(box.client.uid("MOVE", chunk, target), "MOVE")
            continue
        _ok(box.client.uid("COPY", chunk, target), "COPY")
        _ok(box.client.uid("STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if "UIDPLUS" in capabilities:
            _ok(box.client.uid("EXPUNGE", chunk), "UID EXPUNGE")
        else:
            _ok(box.client.expunge(), "EXPUNGE")


def _ok(response: tuple, command: str) -> None:
    typ, data = response
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{command} failed: {data!r}")


def _is_m365(mailbox: Mailbox) -> bool:
    return mailbox.auth == Mailbox.Auth.M365


def _m365_token(mailbox: Mailbox, now: dt.datetime) -> str:
    """The cached token while it is good for a few more minutes, else a new one (stored
    encrypted on the mailbox with its expiry, for every worker and the health page)."""
    token = oauth.cached_token(mailbox, now=now)
    if token is None:
        token, expires_at = oauth.fetch_token(mailbox, now=now)
        services.mailbox_token_store(mailbox=mailbox, token=token, expires_at=expires_at)
    return token


def poll(mailbox: Mailbox, *, now: dt.datetime | None = None) -> PollResult:
    """Read up to INBOUND_BATCH_SIZE messages of one mailbox; never raises for the server's
    failures (they are recorded on the mailbox for the health page)."""
    now = now or timezone.now()
    result = PollResult()
    try:
        with connect(mailbox, now=now) as box:
            _read(box, mailbox, result)
    except oauth.TokenRefused as exc:
        result.error = f"No Microsoft 365 token: {exc}"
    except IMAP_ERRORS as exc:
        result.error = f"{exc.__class__.__name__}: {exc}"
    except (TicketError, StorageUnavailable) as exc:  # the storage is down: next poll
        result.error = f"{exc.__class__.__name__}: {exc}"
    if result.error:
        services.mailbox_poll_failed(mailbox=mailbox, error=result.error, now=now)
        log.warning("mailbox poll failed", extra={"mailbox": mailbox.pk, "error": result.error})
    else:
        services.mailbox_poll_succeeded(mailbox=mailbox, now=now)
    return result


def _read(box, mailbox: Mailbox, result: PollResult) -> None:
    status = box.folder.status(mailbox.folder, ["UIDVALIDITY"])
    uidvalidity = int(status["UIDVALIDITY"])
    box.folder.set(mailbox.folder)
    batch = int(getattr(settings, "INBOUND_BATCH_SIZE", 200))
    uids = sorted(int(uid) for uid in box.uids("ALL"))[:batch]
    if not uids:
        services.mailbox_checkpoint(
            mailbox=mailbox, uidvalidity=uidvalidity, last_uid=_kept_last(mailbox, uidvalidity)
        )
        return
    if not box.folder.exists(mailbox.processed_folder):
        box.folder.create(mailbox.processed_folder)
    known = set(
        InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=uids
        ).values_list("uid", flat=True)
    )
    limit = int(getattr(settings, "INBOUND_MAX_MESSAGE_BYTES", 30 * 1024 * 1024))
    sizes = fetch_sizes(box, [uid for uid in uids if uid not in known])
    done: list[int] = []
    try:
        for uid in uids:
            if uid in known:
                done.append(uid)  # written before; only the move is owed
                continue
            if sizes.get(uid, 0) > limit:
                # Not fetched whole: its headers say who sent it, for the ledger.
                headers = fetch_raw(box, uid, part="BODY.PEEK[HEADER]") or b""
                row = services.inbound_message_too_large(
                    mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, headers=headers,
                    size=sizes[uid], limit=limit,
                )  # fmt: skip
                result.outcomes[row.outcome] += 1
                done.append(uid)
                continue
            raw = fetch_raw(box, uid)
            if raw is None:
                continue  # gone meanwhile (someone moved it)
            row = _process_one(mailbox, uidvalidity, uid, raw)
            result.outcomes[row.outcome] += 1
            done.append(uid)
    finally:
        # What was written is moved even when a later message stopped the batch.
        if done:
            move_processed(box, done, mailbox.processed_folder)
            result.moved = len(done)
            services.mailbox_checkpoint(
                mailbox=mailbox, uidvalidity=uidvalidity, last_uid=max(done)
            )


def _process_one(mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes) -> InboundMessage:
    """One message; a message that breaks the processing (not the database) is recorded as
    rejected with the error and moved on, so it cannot block every message behind it."""
    try:
        return services.inbound_message_process(
            mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, raw=raw
        )
    except (*DATABASE_ERRORS, StorageUnavailable):
        raise  # the next poll tries again
    except TicketError as exc:
        if getattr(exc, "status_code", 400) >= 500:
            raise  # the storage is down: stop, retry next poll
        return services.inbound_message_failed(
            mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, raw=raw, error=exc
        )
    except Exception as exc:  # noqa: BLE001  (recorded with its error, for the admins)
        log.exception("inbound message failed", extra={"mailbox": mailbox.pk, "uid": uid})
        return services.inbound_message_failed(
            mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, raw=raw, error=exc
        )


def _kept_last(mailbox: Mailbox, uidvalidity: int) -> int:
    return mailbox.last_uid if mailbox.uidvalidity == uidvalidity else 0


_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


def fetch_sizes(box, uids: list[int]) -> dict[int, int]:
    """Each message's size in one command, so a huge one is never read into memory."""
    if not uids:
        return {}
    typ, data = box.client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH sizes failed: {data!r}")
    sizes: dict[int, int] = {}
    for item in data or []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (found := _SIZE.search(line)):
            uid, size = (found.group(1), found.group(2)) if found.group(1) else (
                found.group(4), found.group(3))  # fmt: skip
            sizes[int(uid)] = int(size)
    return sizes


def fetch_raw(box, uid: int, *, part: str = "BODY.PEEK[]") -> bytes | None:
    """The message exactly as stored (BODY.PEEK[] leaves it unread), or one part of it."""
    typ, data = box.client.uid("FETCH", str(uid), f"({part})")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH {uid} failed: {data!r}")
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None
