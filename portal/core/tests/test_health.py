import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from portal.core.management.commands.run_worker import beat
from portal.core.models import WorkerHeartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_healthz_is_public_and_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "vendor": connection.vendor}


def test_healthz_reports_worker_seen_after_a_heartbeat(client):
    assert client.get("/healthz").json()["worker"]["status"] == "never seen"
    beat("host:1")
    assert client.get("/healthz").json()["worker"]["status"] == "ok"


def test_healthz_reports_stale_worker_without_failing(client, settings):
    WorkerHeartbeat.objects.create(
        worker_id="host:2", last_seen=timezone.now() - dt.timedelta(minutes=10)
    )
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"]["status"] == "stale"


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "down"


def test_healthz_reports_storage_status(client):
    body = client.get("/healthz").json()
    assert body["storage"]["status"] == "ok"
