"""A poller process killed (SIGKILL: no cleanup, no exception handler runs) in the middle
of a message, then a fresh poller: the mail is never lost and never makes two tickets.

The poller runs in a child process against the test database and the loopback IMAP
server; a hook in the child announces where it is (a marker file) and then blocks, and the
test kills it there: inside the write's transaction, and after the write but before the
move to the processed folder.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from portal.mailin.models import InboundMessage
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.testing.imap import on_both_servers
from portal.tickets import access
from portal.tickets.models import Ticket

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

_CHILD = """
import os, sys, threading, pathlib
import django
django.setup()
from django.conf import settings
from portal.attachments.storage import local_storage_config
settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(os.environ["VAR"])}
from portal.mailin import poller
from portal.mailin.models import Mailbox
from portal.tickets import notify

def stop_here(*args, **kwargs):
    pathlib.Path(os.environ["MARKER"]).write_text("here")
    threading.Event().wait()  # blocks until killed

if sys.argv[1] == "inside-write":
    notify.ticket_created = stop_here
else:
    poller.move_processed = stop_here
poller.poll(Mailbox.objects.get())
"""


def kill_poller_at(where: str, tmp_path) -> None:
    marker = tmp_path / f"{where}.marker"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "MARKER": str(marker),
        "VAR": str(tmp_path),
    }
    child = subprocess.Popen([sys.executable, "-c", _CHILD, where], env=env)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():  # waiting for the child to reach the hook
            assert child.poll() is None, "the poller ended before reaching the hook"
            assert time.monotonic() < deadline, "the poller never reached the hook"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def database_url() -> str:
    """The test database, for the child (PostgreSQL in CI, the SQLite file otherwise)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def ticket_count() -> int:
    return access.system_read(Ticket).count()


@on_both_servers
def test_killed_inside_the_write_nothing_is_written_and_the_next_poll_makes_one_ticket(
    personas, imap_server, poll, tmp_path
):
    imap_server.append(fixtures.plain("requester@example.com", "Webcam", "Black image."))
    kill_poller_at("inside-write", tmp_path)
    assert ticket_count() == 0 and outcomes() == []  # the transaction died with it
    assert len(imap_server.uids("INBOX")) == 1  # still on the server
    poll()
    poll()
    assert ticket_count() == 1 and outcomes() == ["ticket"]
    assert imap_server.uids("INBOX") == [] and len(imap_server.uids("Processed")) == 1


@on_both_servers
def test_killed_between_the_write_and_the_move_the_next_poll_only_moves(
    personas, imap_server, poll, tmp_path
):
    imap_server.append(
        fixtures.plain("requester@example.com", "Docking station", "No power."),
        fixtures.plain("requester@example.com", "Headset", "No sound."),
    )
    kill_poller_at("before-move", tmp_path)
    assert ticket_count() == 2 and outcomes() == ["ticket", "ticket"]
    assert len(imap_server.uids("INBOX")) == 2
    result = poll()
    assert result.moved == 2 and not result.outcomes  # known to the ledger: only moved
    assert ticket_count() == 2 and InboundMessage.objects.count() == 2
    assert imap_server.uids("INBOX") == []
