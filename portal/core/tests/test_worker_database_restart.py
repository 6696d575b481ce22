"""A private PostgreSQL server restarted and stopped under real processes: `run_worker`
stays up and the mail queued before, during and after the outage goes out once; gunicorn
answers 503 (page and problem+json) while it is down and recovers alone. Nothing is
restarted but the database."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portal.testing.database import ROOT, manage
from portal.testing.smtp import SmtpServer, free_port

pytestmark = [pytest.mark.fault]

QUEUE_MAIL = """
from portal.accounts.models import User
from portal.notifications.services import notify

# A kind every process knows (the worker writes the message): the admins' failed-mail notice.
user = (User.objects.filter(email="requester@example.com").first()
        or User.objects.create_user("requester@example.com", "a long password 123"))
for n in range({first}, {last}):
    notify(recipients=[user], kind="mail_failed", text=f"Event {{n}}", link="/dashboard",
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


def running_worker(cluster, url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    return cluster.sql("SELECT count(*) FROM core_workerheartbeat", database=name)[0][0] > 0


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
    # No task is left RUNNING (one may be running right now: wait for it to finish).
    wait_for(lambda: running_tasks(postgres_cluster, url) == 0, timeout=30, what="no task RUNNING")


def test_the_workers_pump_delivers_an_events_notification_within_seconds(
    postgres_cluster, smtp, worker_for
):
    url = postgres_cluster.new_database()
    name = url.rsplit("/", 1)[1]
    worker_for(url)
    wait_for(lambda: running_worker(postgres_cluster, url), timeout=45, what="the worker")
    queue_mail(url, 0, 1)  # one event: its pending notice, and no task
    started = time.monotonic()

    def told() -> bool:
        return (
            postgres_cluster.sql("SELECT count(*) FROM notifications_notification", database=name)[
                0
            ][0]
            == 1
        )

    # The pump looks every NOTICE_POLL_MS; the sweep alone would take more than 10 s.
    wait_for(told, timeout=8, what="the in-app notification")
    assert time.monotonic() - started < 8
    wait_for(lambda: outbox(postgres_cluster, url) == {"sent": 1}, timeout=30, what="its mail")


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
    # No task is left RUNNING (one may be running right now: wait for it to finish).
    wait_for(lambda: running_tasks(postgres_cluster, url) == 0, timeout=30, what="no task RUNNING")
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


SIGN_IN = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from portal.accounts.models import User
from portal.api import tokens

user = User.objects.create_user("agent@example.com", "a long password 123")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key, tokens.token_create(user=user, name="fault").secret)
"""


def fetch(url: str, **headers: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def web_server(tmp_path):
    """gunicorn as in production (one worker, two threads) against a database URL."""
    started = []

    def start(url: str) -> str:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "HTTPS_ONLY": "0",
            "STATIC_MANIFEST": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [Path(sys.executable).parent / "gunicorn", "portal.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=(tmp_path / "web.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
        base = f"http://127.0.0.1:{port}"

        def live() -> bool:
            try:
                return fetch(f"{base}/healthz/live")[0] == 200
            except OSError:
                return False

        wait_for(live, timeout=45, what="gunicorn to answer")
        return base

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_pages_and_api_answer_503_while_the_database_is_stopped_and_recover_alone(
    postgres_cluster, web_server
):
    url = postgres_cluster.new_database()
    session_key, token = manage(url, "shell", "-c", SIGN_IN).stdout.splitlines()[-1].split()
    base = web_server(url)
    page = {"Cookie": f"sessionid={session_key}"}
    api = {"Authorization": f"Bearer {token}"}
    assert fetch(f"{base}/dashboard", **page)[0] == 200
    assert fetch(f"{base}/api/v1/tickets", **api)[0] == 200

    postgres_cluster.stop()
    started = time.monotonic()
    status, headers, body = fetch(f"{base}/dashboard", **page)
    assert (status, headers["Retry-After"]) == (503, "30")
    assert "The portal is temporarily unavailable" in body
    status, headers, body = fetch(f"{base}/api/v1/tickets", **api)
    assert (status, headers["Content-Type"], headers["Retry-After"]) == (
        503,
        "application/problem+json",
        "30",
    )
    assert fetch(f"{base}/healthz/ready")[0] == 503
    assert fetch(f"{base}/healthz/live")[0] == 200
    assert time.monotonic() - started < 15  # clear answers, not hanging requests

    postgres_cluster.start()  # the web server is not restarted
    wait_for(
        lambda: fetch(f"{base}/dashboard", **page)[0] == 200, timeout=30, what="pages to recover"
    )
    assert fetch(f"{base}/api/v1/tickets", **api)[0] == 200


def test_a_database_restart_costs_no_request_its_pooled_connections_are_replaced(
    postgres_cluster, web_server
):
    url = postgres_cluster.new_database()
    session_key, _token = manage(url, "shell", "-c", SIGN_IN).stdout.splitlines()[-1].split()
    base = web_server(url)
    page = {"Cookie": f"sessionid={session_key}"}
    name = url.rsplit("/", 1)[1]

    def both_threads_at_once() -> list[int]:
        # Eight requests two at a time: both threads of the worker serve some.
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda _: fetch(f"{base}/dashboard", **page)[0], range(8)))

    def app_connections() -> int:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        return postgres_cluster.sql(sql, name)[0][0]

    assert both_threads_at_once() == [200] * 8
    assert app_connections() == 2  # each thread keeps its connection

    postgres_cluster.restart()  # every kept connection is cut; the web server is not restarted
    # The health check finds each dead connection before a request uses it.
    assert both_threads_at_once() == [200] * 8
    assert app_connections() == 2
