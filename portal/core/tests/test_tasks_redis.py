"""The task backend as a setting: TASKS_BACKEND=redis (django-tasks-redis on Django's own
tasks API) against a private Redis server. A task is sent only once its data commits; two
workers drain one queue without sending a mail twice; a daily job is enqueued once however
many workers beat."""

import json
import os
import subprocess
import sys

import pytest
from django.db import transaction
from django.tasks import task_backends

from portal.core.tests.test_worker_database_restart import (
    QUEUE_MAIL,
    assert_each_delivered_once,
    outbox,
    wait_for,
)
from portal.notifications.account_mail import queue_password_reset
from portal.notifications.models import PendingNotice
from portal.notifications.services import notify
from portal.testing.database import ROOT, manage, postgres_cluster  # noqa: F401
from portal.testing.redis import redis_server  # noqa: F401
from portal.testing.smtp import SmtpServer, free_port

pytestmark = [pytest.mark.scale]


def redis_tasks(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_tasks_redis.RedisTaskBackend",
            "QUEUES": ["default", "mail", "mailin", "webhooks"],
            "OPTIONS": {"REDIS_URL": url, "REDIS_KEY_PREFIX": f"portal_test_{free_port()}"},
        }
    }


@pytest.fixture
def on_redis(settings, redis_server):  # noqa: F811
    settings.TASKS_BACKEND = "redis"
    settings.TASKS = redis_tasks(redis_server.url)
    yield task_backends["default"]


def queued(backend) -> list[dict]:
    return [data for _, data in backend.iter_task_data()]


def test_the_setting_selects_the_redis_backend_of_djangos_tasks_api(redis_server):  # noqa: F811
    env = {**os.environ, "TASKS_BACKEND": "redis", "TASKS_REDIS_URL": redis_server.url}
    script = (
        "import json; from django.tasks import task_backends; "
        "from portal.tickets.tasks import escalate_sla; "
        "b = task_backends['default']; r = escalate_sla.enqueue(); "
        "print(json.dumps([type(b).__module__ + '.' + type(b).__name__, "
        "b.get_result(r.id).status]))"
    )
    out = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    backend, status = json.loads(out.stdout.strip().splitlines()[-1])
    assert backend == "django_tasks_redis.backends.RedisTaskBackend"
    assert status == "READY"


def test_a_bad_backend_name_stops_the_process_with_a_clear_message():
    env = {**os.environ, "TASKS_BACKEND": "rabbit"}
    out = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "TASKS_BACKEND must be database or redis" in out.stderr


def mail_one(personas, key: str):
    """A password reset link: an email queued with its task in the request itself."""
    queue_password_reset(user=personas.requester, reset_path="/reset/x", event_key=key)


@pytest.mark.django_db(transaction=True)
def test_a_task_is_sent_only_when_its_data_commits(on_redis, personas):
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        mail_one(personas, "rolled-back")
        raise RolledBack
    assert queued(on_redis) == []

    with transaction.atomic():
        mail_one(personas, "committed")
        assert queued(on_redis) == []  # not before the commit: no worker looks too early
    [sent] = queued(on_redis)
    assert sent["task_path"] == "portal.notifications.tasks.deliver_emails"
    assert sent["queue_name"] == "mail"


@pytest.mark.django_db(transaction=True)
def test_an_event_sends_no_task_its_notice_waits_for_the_workers_pump(on_redis, personas):
    notify(
        recipients=[personas.requester], kind="ticket_created", text="Hello", link="/dashboard",
        context={}, event_key="event",
    )  # fmt: skip
    assert queued(on_redis) == []
    assert PendingNotice.objects.count() == 1


@pytest.fixture
def smtp():
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()


def start_worker(url: str, redis_url: str, prefix: str, smtp, log_path) -> subprocess.Popen:
    env = {
        **os.environ, "DATABASE_URL": url, "DEBUG": "0", "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO", "TASKS_BACKEND": "redis", "TASKS_REDIS_URL": redis_url,
        "TASKS_REDIS_KEY_PREFIX": prefix, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "0", "SMTP_TIMEOUT": "5", "WORKER_HEARTBEAT_SECONDS": "1",
    }  # fmt: skip
    return subprocess.Popen(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-reload"],
        cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_two_workers_drain_the_queue_without_doubling_a_mail_and_run_a_daily_job_once(
    postgres_cluster,  # noqa: F811
    redis_server,  # noqa: F811
    smtp,
    tmp_path,
    settings,
):
    url = postgres_cluster.new_database()
    prefix = f"portal_two_{free_port()}"
    settings.TASKS = redis_tasks(redis_server.url)
    settings.TASKS["default"]["OPTIONS"]["REDIS_KEY_PREFIX"] = prefix
    workers = [
        start_worker(url, redis_server.url, prefix, smtp, tmp_path / f"worker{n}.log")
        for n in (1, 2)
    ]
    try:
        queue_mail_env = {"TASKS_BACKEND": "redis", "TASKS_REDIS_URL": redis_server.url,
                          "TASKS_REDIS_KEY_PREFIX": prefix}  # fmt: skip
        manage(url, "shell", "-c", queue_script(0, 30), **queue_mail_env)
        wait_for(lambda: outbox(postgres_cluster, url) == {"sent": 30}, timeout=60,
                 what="all 30 messages to be sent")  # fmt: skip
        for worker in workers:
            assert worker.poll() is None, "a worker exited"
        assert_each_delivered_once(smtp, 30)

        # Both workers beat (and each tries to enqueue the periodic jobs) every second.
        beats = "SELECT count(*) FROM core_workerheartbeat WHERE last_seen > now() - interval '5 seconds'"  # noqa: E501
        wait_for(lambda: postgres_cluster.sql(beats, database=url.rsplit("/", 1)[1])[0][0] == 2,
                 timeout=30, what="both workers' heartbeats")  # fmt: skip
        daily = [
            t for t in queued(task_backends["default"])
            if t["task_path"] == "portal.retention.tasks.run_retention"
        ]  # fmt: skip
        assert len(daily) == 1
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()


def queue_script(first: int, last: int) -> str:

    return QUEUE_MAIL.format(first=first, last=last)


def test_the_health_check_reports_the_redis_backlog_per_queue(on_redis, settings):
    from portal.core.health import check_tasks
    from portal.tickets.tasks import escalate_sla

    healthy, detail = check_tasks()
    assert healthy
    assert detail["queues"]["default"] == {"due": 0, "oldest_due_seconds": 0}

    escalate_sla.enqueue()  # nobody works the queue
    settings.WORKER_BACKLOG_MAX_SECONDS = -1  # waiting at all is too long
    healthy, detail = check_tasks()
    assert not healthy
    assert detail["status"] == "backlog"
    assert detail["queues"]["default"]["due"] == 1
    assert detail["queues"]["mail"]["due"] == 0
