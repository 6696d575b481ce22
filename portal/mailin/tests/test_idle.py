"""IMAP IDLE: a mail becomes a ticket within seconds of arriving, the watcher comes back
after the server drops it, and one worker process watches a mailbox at a time while the
periodic poll stands aside (and takes over when the watcher is gone).

The watcher runs in a thread of its own (its own database connection, so the tests commit)
against real servers on loopback; the IDLE cycle is set far longer than any wait here, so
only the server's notification can make the ticket appear in time.
"""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from portal.mailin import services, tasks, watcher
from portal.mailin.models import Mailbox
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.testing.imap import on_both_servers
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 60  # seconds: a loaded machine; an idle one takes well under one


def wait_for(condition, what: str, seconds: float = DEADLINE) -> None:
    """Check `condition` until it holds; fail after `seconds` (a deadline, not a sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def titles() -> list[str]:
    connection.close()  # a fresh read of what the watcher's thread committed
    return sorted(access.system_read(Ticket).values_list("title", flat=True))


@pytest.fixture
def watching(mailbox, settings):
    """Start a watcher on the mailbox; yields its state; stops it at the end."""
    settings.INBOUND_IDLE_SECONDS = 1200  # no cycle's safety poll within a test
    settings.INBOUND_IDLE_BACKOFF_MAX = 2
    stop = threading.Event()
    state = watcher.WatchState()
    thread = threading.Thread(
        target=watcher.watch,
        args=(mailbox.pk,),
        kwargs={"owner": "test-worker", "stop": stop, "state": state},
        daemon=True,
    )
    thread.start()
    yield state
    stop.set()
    thread.join(timeout=DEADLINE)
    assert not thread.is_alive()


@on_both_servers
def test_a_mail_arriving_while_the_mailbox_is_watched_becomes_a_ticket_within_seconds(
    personas, mailbox, imap_server, watching
):
    wait_for(watching.idling.is_set, "the watcher enters IDLE")
    mailbox.refresh_from_db()
    assert mailbox.watched_by == "test-worker" and watcher.is_watched(mailbox, timezone.now())
    imap_server.append(fixtures.plain("requester@example.com", "Projector", "No signal."))
    wait_for(lambda: titles() == ["Projector"], "the ticket appears")
    assert watching.notifications == 1 and outcomes() == ["ticket"]
    wait_for(lambda: len(imap_server.uids("Processed")) == 1, "the mail is moved")
    # A second mail on the same watch: one more ticket, nothing doubled.
    wait_for(watching.idling.is_set, "the watcher idles again")
    imap_server.append(fixtures.plain("requester@example.com", "Keyboard", "Sticky keys."))
    wait_for(lambda: titles() == ["Keyboard", "Projector"], "the second ticket appears")
    assert outcomes() == ["ticket", "ticket"]


@pytest.mark.parametrize("imap_server", ["dovecot"], indirect=True)
def test_a_connection_the_server_drops_is_made_again_and_mail_still_arrives(
    personas, mailbox, imap_server, watching
):
    wait_for(watching.idling.is_set, "the watcher enters IDLE")
    assert watching.sessions == 1
    imap_server.kill_connections()  # doveadm kick: the server ends the session
    wait_for(lambda: watching.sessions == 2 and watching.idling.is_set(), "a new session idles")
    imap_server.append(fixtures.plain("requester@example.com", "Docking station", "Dead."))
    wait_for(lambda: titles() == ["Docking station"], "the ticket appears")
    assert outcomes() == ["ticket"]


def test_the_lease_keeps_a_mailbox_to_one_watcher_and_the_periodic_poll_stands_aside(
    personas, mailbox, imap_server, settings
):
    now = timezone.now()
    assert services.mailbox_watch_claim(mailbox.pk, "worker-a", now=now)
    assert not services.mailbox_watch_claim(mailbox.pk, "worker-b", now=now)  # held by worker-a
    assert services.mailbox_watch_claim(mailbox.pk, "worker-a", now=now)  # renewed by its holder
    imap_server.append(fixtures.plain("requester@example.com", "Webcam", "Black."))
    assert tasks.poll_mailboxes.call() == {}  # watched: the periodic poll leaves it alone
    assert imap_server.uids("INBOX") and titles() == []
    # worker-a died: once its lease has run out, the periodic poll reads the mail again and
    # another worker may take the watch.
    mailbox.refresh_from_db()
    later = mailbox.watched_until + dt.timedelta(seconds=1)
    Mailbox.objects.filter(pk=mailbox.pk).update(watched_until=now - dt.timedelta(seconds=1))
    assert tasks.poll_mailboxes.call() == {"ticket": 1} and titles() == ["Webcam"]
    assert services.mailbox_watch_claim(mailbox.pk, "worker-b", now=later)
    services.mailbox_watch_release(mailbox.pk, "worker-a")  # not the holder: changes nothing
    mailbox.refresh_from_db()
    assert mailbox.watched_by == "worker-b"
    # A switched-off mailbox cannot be claimed.
    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False, watched_until=None)
    assert not services.mailbox_watch_claim(mailbox.pk, "worker-b")


def test_the_idle_cycle_respects_rfc_2177(settings):
    settings.INBOUND_IDLE_SECONDS = 3600
    assert services.idle_seconds() == 29 * 60


def test_the_worker_watches_each_active_mailbox_and_lets_go_of_a_switched_off_one(
    personas, mailbox, imap_server, settings
):
    settings.INBOUND_IDLE_SECONDS = 1200
    watchers = watcher.MailboxWatchers("worker-1", check_seconds=0.2)
    watchers.start()
    try:

        def holder() -> str:
            return Mailbox.objects.values_list("watched_by", flat=True).get(pk=mailbox.pk)

        wait_for(lambda: holder() == "worker-1", "the worker takes the watch")
        imap_server.append(fixtures.plain("requester@example.com", "Printer", "Jammed."))
        wait_for(lambda: titles() == ["Printer"], "the ticket appears")
        Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
        wait_for(lambda: holder() == "" and not watchers.watchers, "the watch ends")
    finally:
        watchers.stopped.set()
        watchers.join(timeout=DEADLINE)
    assert not watchers.is_alive()
