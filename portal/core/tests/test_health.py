import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.core.management.commands.run_worker import beat
from portal.core.models import WorkerHeartbeat
from portal.notifications.tasks import sweep_email_outbox
from portal.tickets.tasks import escalate_sla

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_healthz_is_public_and_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["database"] == {"status": "ok", "vendor": connection.vendor}


def test_healthz_reports_worker_seen_after_a_heartbeat(client):
    assert client.get("/healthz").json()["worker"]["status"] == "never seen"
    beat("host:1")
    assert client.get("/healthz").json()["worker"]["status"] == "ok"


def test_a_stale_worker_fails_healthz_but_not_readiness(client):
    WorkerHeartbeat.objects.create(
        worker_id="host:2", last_seen=timezone.now() - dt.timedelta(minutes=10)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response.json()["worker"]["status"] == "stale"
    # A load balancer must keep serving pages: they work without the worker.
    assert client.get("/healthz/ready").status_code == 200


def test_a_task_running_too_long_fails_healthz_as_stuck(client, settings):
    beat("host:3")  # the heartbeat thread is alive, but the task thread hangs
    result = escalate_sla.enqueue()
    started = timezone.now() - dt.timedelta(seconds=settings.WORKER_TASK_STUCK_SECONDS + 5)
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=started, worker_ids=["host:3"]
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    worker = response.json()["worker"]
    assert worker["status"] == "stuck"
    assert worker["stuck_tasks"] == 1
    assert worker["longest_running_seconds"] >= settings.WORKER_TASK_STUCK_SECONDS


def test_healthz_reports_the_backlog_per_queue_and_fails_when_it_is_old(client, settings):
    sweep_email_outbox.enqueue()
    body = client.get("/healthz").json()
    assert body["tasks"]["status"] == "ok"
    assert body["tasks"]["queues"]["mail"]["due"] == 1
    assert body["tasks"]["queues"]["default"] == {"due": 0, "oldest_due_seconds": 0}

    waited = settings.WORKER_BACKLOG_MAX_SECONDS + 30
    DBTaskResult.objects.update(enqueued_at=timezone.now() - dt.timedelta(seconds=waited))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["tasks"]
    assert response.json()["tasks"]["status"] == "backlog"
    assert response.json()["tasks"]["queues"]["mail"]["oldest_due_seconds"] >= waited


def test_a_delayed_task_is_not_backlog_until_it_falls_due(client):
    sweep_email_outbox.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue()
    assert client.get("/healthz").json()["tasks"]["queues"]["mail"]["due"] == 0


@pytest.mark.usefixtures("database_unreachable")
def test_with_the_database_unreachable_healthz_and_readiness_fail_and_liveness_holds(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["database"]["status"] == "down"
    assert client.get("/healthz/ready").status_code == 503
    # Liveness needs no database: a supervisor must not restart a healthy web server.
    assert client.get("/healthz/live").status_code == 200


def test_healthz_reports_storage_status(client):
    body = client.get("/healthz").json()
    assert body["storage"]["status"] == "ok"
