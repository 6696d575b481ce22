"""A real `run_worker` process against a private PostgreSQL server that is restarted and
stopped under it: the worker stays up, and the mail queued before, during and after the
outage goes out once, without restarting anything."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.testing.database import ROOT, manage
from portal.testing.smtp import SmtpServer, free_port

pytestmark = [pytest.mark.fault]

QUEUE_MAIL = """
from portal.accounts.models import User
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import notify

register_kind(Kind(name="fault_event", label="Fault", email_template="notice",
                   sample_context=dict))
user = (User.objects.filter(email="requester@example.com").first()
        or User.objects.create_user("requester@example.com", "a long password 123"))
for n in range({first}, {last}):
    notify(recipients=[user], kind="fault_event", text=f"Event {{n}}", link="/dashboard",
           context={{"text": f"Event {{n}}"}}, event_key=f"fault:{{n}}")
"""


def queue_mail(url: str, first: int, last: int) -> None:
    manage(url, "shell", "-c", QUEUE_MAIL.format(first=first, last=last))


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)  # polling a condition, not waiting for a guessed duration


@pytest.fixture
def smtp():
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker_for(tmp_path, smtp):
    """Starts `run_worker` against a database URL; its log is `worker.log_path`."""
    started = []

    def start(url: str) -> subprocess.Popen:
        log_path = Path(tmp_path / "worker.log")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "0",
            "SMTP_TIMEOUT": "5",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "WORKER_DB_RETRY_MAX_SECONDS": "1",
        }
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [sys.executable, "manage.py", "run_worker", "--interval", "0.1",
             "--no-startup-delay", "--no-reload"],
            cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.log_path = log_path
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def outbox(cluster, url: str) -> dict[str, int]:
    name = url.rsplit("/", 1)[1]
    rows = cluster.sql(
        "SELECT status, count(*) FROM notifications_emaildelivery GROUP BY status", database=name
    )
    return dict(rows)


def running_tasks(cluster, url: str) -> int:
    name = url.rsplit("/", 1)[1]
    [(count,)] = cluster.sql(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'",
        database=name,
    )
    return count


def assert_each_delivered_once(smtp, count: int) -> None:
    subjects = sorted(m["Subject"] for m in smtp.messages_to("requester@example.com"))
    assert subjects == sorted(f"Event {n}" for n in range(count))


def test_worker_rides_out_a_database_restart_mid_batch(postgres_cluster, smtp, worker_for):
    url = postgres_cluster.new_database()
    queue_mail(url, 0, 10)
    smtp.delay = 0.2  # messages are in flight when the database goes away
    worker = worker_for(url)
    wait_for(lambda: len(smtp.received) >= 2, timeout=45, what="the first messages")

    postgres_cluster.restart()  # pg_ctl restart -m fast: every connection is cut
    queue_mail(url, 10, 15)  # mail queued after the restart goes out too

    wait_for(
        lambda: outbox(postgres_cluster, url) == {"sent": 15},
        timeout=45,
        what="all 15 messages to be sent",
    )
    assert worker.poll() is None, worker.log_path.read_text()
    assert_each_delivered_once(smtp, 15)
    assert running_tasks(postgres_cluster, url) == 0


def test_worker_waits_out_a_stopped_database_and_carries_on(postgres_cluster, smtp, worker_for):
    url = postgres_cluster.new_database()
    queue_mail(url, 0, 5)
    smtp.delay = 0.2
    worker = worker_for(url)
    wait_for(lambda: len(smtp.received) >= 1, timeout=45, what="the first message")

    postgres_cluster.stop()
    wait_for(
        lambda: "database unavailable" in worker.log_path.read_text(),
        timeout=15,
        what="the worker to notice the database is gone",
    )
    assert worker.poll() is None, worker.log_path.read_text()
    postgres_cluster.start()
    queue_mail(url, 5, 8)

    wait_for(
        lambda: outbox(postgres_cluster, url) == {"sent": 8},
        timeout=45,
        what="all 8 messages to be sent",
    )
    assert worker.poll() is None, worker.log_path.read_text()
    assert_each_delivered_once(smtp, 8)
    assert running_tasks(postgres_cluster, url) == 0
    # The heartbeat came back too: /healthz sees a live worker again (fresh within three
    # intervals of one second).
    name = url.rsplit("/", 1)[1]

    def heartbeat_age() -> float:
        [(age,)] = postgres_cluster.sql(
            "SELECT extract(epoch FROM now() - max(last_seen)) FROM core_workerheartbeat",
            database=name,
        )
        return float(age)

    wait_for(lambda: heartbeat_age() < 3, timeout=15, what="a fresh heartbeat")
