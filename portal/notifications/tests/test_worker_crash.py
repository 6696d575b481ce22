"""A real worker process killed mid-batch loses nothing; only the message it was sending
can arrive twice, with the same Message-ID (docs/notifications.md, "Never twice, never lost")."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.notifications import delivery
from portal.notifications.models import EmailDelivery
from portal.notifications.services import notify
from portal.testing.notices import deliver_pending

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = 20


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(smtp_port: int, **settings: str) -> subprocess.Popen:
    """`run_worker` against the test database, sending to `smtp_port`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TLS": "0",
        "DEBUG": "0",
        **settings,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_killing_a_worker_mid_batch_loses_nothing_and_repeats_only_the_message_in_flight(
    personas, smtp_server
):
    """What delivery.py promises: every message arrives; a copy is possible only for a row
    the worker was sending when it died (the server said 250, the worker died before
    recording it), and the copy carries the same Message-ID, so mail clients drop it."""
    for n in range(MESSAGES):
        notify(
            recipients=[personas.requester],
            # A kind the worker process knows: the tests' own kind exists in this one only.
            kind="mail_failed",
            text=f"Event {n}",
            link="/dashboard",
            context={"text": f"Event {n}"},
            event_key=f"crash:{n}",
        )
    # The outbox rows queued before the worker starts, as the test has always timed them.
    deliver_pending()

    worker = start_worker(smtp_server.port)
    try:
        wait_for(lambda: len(smtp_server.received) >= 5)
        # The worst moment to die: the server has stored a message, the worker has not
        # heard "250" yet. The server holds its reply until the worker is dead.
        smtp_server.hang = "reply"
        wait_for(lambda: smtp_server.held)
        worker.send_signal(signal.SIGKILL)  # no chance to clean up
        worker.wait(timeout=10)
    finally:
        worker.kill()
    smtp_server.hang = None
    [held] = smtp_server.held
    assert len(smtp_server.received) < MESSAGES
    in_flight = dict(
        EmailDelivery.objects.filter(status="sending").values_list("subject", "message_id")
    )
    assert list(in_flight) == [held.message["Subject"]]  # one mail thread, one row in flight
    orphaned = DBTaskResult.objects.filter(status="RUNNING", task_path__endswith="deliver_emails")
    assert orphaned.count() == 1  # the mail task it was running

    # Time passes: what the dead worker held is now "stuck" and will be sent again.
    EmailDelivery.objects.filter(status="sending").update(
        claimed_at=timezone.now() - timedelta(minutes=11)
    )

    def all_sent() -> bool:
        # The periodic sweep, run here beside the second worker: both claim rows, and a
        # row is only ever sent by whoever claimed it.
        delivery.sweep()
        return EmailDelivery.objects.filter(status="sent").count() == MESSAGES

    second = start_worker(smtp_server.port, WORKER_HEARTBEAT_SECONDS="1")
    try:
        wait_for(all_sent)
        # The task the dead worker was running is not left RUNNING: with no heartbeat from
        # its worker, the live one puts it back in the queue and runs it (sending nothing:
        # its message is sent).
        running = DBTaskResult.objects.filter(status="RUNNING")
        wait_for(lambda: not running.exists(), timeout=30)
    finally:
        second.terminate()
        second.wait(timeout=10)

    received = smtp_server.messages_to("requester@example.com")
    copies = Counter(m["Subject"] for m in received)
    assert set(copies) == {f"Event {n}" for n in range(MESSAGES)}  # nothing lost
    repeated = {subject for subject, count in copies.items() if count > 1}
    assert repeated <= set(in_flight)  # only the message in flight may come twice …
    assert all(copies[subject] == 2 for subject in repeated)  # … and only once more
    for subject in repeated:  # … with the Message-ID it had the first time
        assert {m["Message-ID"] for m in received if m["Subject"] == subject} == {
            in_flight[subject]
        }
