"""Watching support mailboxes with IMAP IDLE (RFC 2177), so a mail is read within seconds.

The task worker (`run_worker`, when INBOUND_IDLE is on) runs one thread per active mailbox.
Each holds one IMAP connection in IDLE on the mailbox's folder; when the server announces
new mail (`* n EXISTS`), it runs the same `poller.poll` as the periodic task: the same
fetch, one transaction per message, then the move. So IDLE only decides *when* to read;
nothing of the checkpoint changes, and a message is never lost or doubled.

- **Bounded IDLE**: the command is ended and issued again every INBOUND_IDLE_SECONDS (at
  most 29 minutes, as RFC 2177 asks, before servers drop an idle client); each renewal
  also polls once, in case a notification was missed.
- **One watcher per mailbox** across worker processes: a lease on the mailbox row
  (`watched_by`, `watched_until`), renewed at every IDLE cycle. The periodic poll leaves a
  watched mailbox alone and takes over when the lease runs out (the process died, or lost
  the server): polling every INBOUND_POLL_SECONDS is the fallback.
- **Reconnect with backoff**: a dropped connection, a server restart or a refused login
  releases the lease (the periodic poll reads meanwhile) and tries again after 1, 2, 4 …
  seconds, at most INBOUND_IDLE_BACKOFF_MAX.
"""

import datetime as dt
import imaplib
import io
import logging
import select
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings
from django.db import close_old_connections, connection

from portal.lib.db import DATABASE_ERRORS, close_connection
from portal.mailin import oauth, poller, services
from portal.mailin.models import Mailbox

log = logging.getLogger("portal.mailin")

# How soon a watcher notices it is asked to stop (it waits on the socket this long at most).
SLICE = 1.0


def is_watched(mailbox: Mailbox, now: dt.datetime) -> bool:
    return bool(mailbox.watched_until and mailbox.watched_until > now)


@dataclass
class WatchState:
    """What a watcher is doing, for its supervisor and the tests."""

    idling: threading.Event = field(default_factory=threading.Event)
    sessions: int = 0  # connections made (a reconnect adds one)
    notifications: int = 0  # IDLE wake-ups that announced new mail
    backoff: float = 1.0


class ServerSaidBye(imaplib.IMAP4.abort):
    """The server ended the session (`* BYE`): shutting down, or an admin kicked us."""


def watch(
    mailbox_pk: int, *, owner: str, stop: threading.Event, state: WatchState | None = None
) -> None:
    """Watch one mailbox until `stop` is set or it is switched off (runs in its own thread,
    with its own database connection)."""
    state = state or WatchState()
    backoff_max = float(getattr(settings, "INBOUND_IDLE_BACKOFF_MAX", 300))
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                if not services.mailbox_watch_claim(mailbox_pk, owner):
                    if not Mailbox.objects.filter(
                        pk=mailbox_pk, is_active=True, transport=Mailbox.Transport.IMAP
                    ).exists():
                        return  # switched off or removed
                    stop.wait(services.idle_seconds())  # another process watches it
                    continue
                _session(Mailbox.objects.get(pk=mailbox_pk), owner, stop, state)
            except (*poller.IMAP_ERRORS, oauth.TokenRefused, *DATABASE_ERRORS) as exc:
                state.idling.clear()
                log.warning(
                    "watching mailbox failed; reconnecting",
                    extra={"mailbox": mailbox_pk, "error": f"{exc.__class__.__name__}: {exc}"},
                )
                _release_quietly(mailbox_pk, owner)
                stop.wait(state.backoff)
                state.backoff = min(state.backoff * 2, backoff_max)
    finally:
        state.idling.clear()
        _release_quietly(mailbox_pk, owner)
        connection.close()


def _release_quietly(mailbox_pk: int, owner: str) -> None:
    try:
        services.mailbox_watch_release(mailbox_pk, owner)
    except DATABASE_ERRORS:  # the lease runs out by itself
        close_connection()


def _session(mailbox: Mailbox, owner: str, stop: threading.Event, state: WatchState) -> None:
    with poller.connect(mailbox) as box:
        state.sessions += 1
        box.folder.set(mailbox.folder)
        _poll(mailbox)  # what arrived while nobody watched
        while not stop.is_set():
            if not services.mailbox_watch_claim(mailbox.pk, owner):
                return  # switched off, or the lease went to another process
            if _idle_once(box, stop, state):
                state.notifications += 1
            if stop.is_set():
                return
            _poll(mailbox)  # new mail, or the cycle's safety poll
            state.backoff = 1.0  # a whole cycle worked: the next outage starts short


def _poll(mailbox: Mailbox) -> None:
    mailbox.refresh_from_db()
    poller.poll(mailbox)


def _idle_once(box, stop: threading.Event, state: WatchState) -> bool:
    """One bounded IDLE; True when the server announced new mail. A closed connection or a
    BYE raises (the caller reconnects)."""
    box.idle.start()
    state.idling.set()
    announced = False
    deadline = time.monotonic() + services.idle_seconds()
    try:
        while not announced and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not _readable(box.client, min(SLICE, left)):
                continue
            line = box.client._get_line()  # raises imaplib.IMAP4.abort at EOF
            if line.startswith(b"* BYE"):
                raise ServerSaidBye(line.decode("ascii", "replace"))
            announced = line.startswith(b"* ") and line.rstrip().endswith(b" EXISTS")
    finally:
        state.idling.clear()
    box.idle.stop()  # DONE; raises on a dead connection
    return announced


def _readable(client: imaplib.IMAP4, timeout: float) -> bool:
    """A line to read within `timeout` seconds. imaplib reads through a buffer: a
    notification that came in the same packet as the previous line is already there, and
    the socket would never say so."""
    sock = client.sock
    if _buffered(client):
        return True
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():  # TLS: bytes decrypted but not read yet
        return True
    waiting = select.poll()  # not select.select: a worker may hold more than 1024 sockets
    waiting.register(sock.fileno(), select.POLLIN)
    return bool(waiting.poll(timeout * 1000))


def _buffered(client: imaplib.IMAP4) -> bool:
    """Bytes waiting in imaplib's read buffer (peeked with the socket non-blocking, so an
    empty buffer never waits)."""
    sock = client.sock
    previous = sock.gettimeout()
    sock.settimeout(0)
    try:
        reader = cast(io.BufferedReader, client.file)  # imaplib: sock.makefile("rb")
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(previous)


class MailboxWatchers(threading.Thread):
    """In the task worker: one watcher thread per active mailbox, started and stopped as
    mailboxes are added or switched off (checked every minute)."""

    def __init__(self, owner: str, *, check_seconds: float = 60):
        super().__init__(name="mailbox-watchers", daemon=True)
        self.owner = owner
        self.check_seconds = check_seconds
        self.stopped = threading.Event()
        self.watchers: dict[int, tuple[threading.Thread, threading.Event]] = {}

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    close_old_connections()
                    active = set(
                        Mailbox.objects.filter(
                            is_active=True, transport=Mailbox.Transport.IMAP
                        ).values_list("pk", flat=True)
                    )
                except DATABASE_ERRORS as exc:
                    log.warning(
                        "mailbox watchers: database unavailable", extra={"error": repr(exc)}
                    )
                    close_connection()
                    active = set(self.watchers)
                self._adjust(active)
                self.stopped.wait(self.check_seconds)
        finally:
            self._adjust(set())
            connection.close()

    def _adjust(self, active: set[int]) -> None:
        for pk, (thread, stop) in list(self.watchers.items()):
            if pk not in active or not thread.is_alive():
                stop.set()
                thread.join(timeout=SLICE * 5)
                del self.watchers[pk]
        for pk in active - set(self.watchers):
            stop = threading.Event()
            thread = threading.Thread(
                target=watch,
                args=(pk,),
                kwargs={"owner": self.owner, "stop": stop},
                name=f"mailbox-watch-{pk}",
                daemon=True,
            )
            thread.start()
            self.watchers[pk] = (thread, stop)
