"""Tasks left RUNNING by a worker that died are run again (or failed), never left for ever."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.core.management.commands.run_worker import beat
from portal.core.worker import reap_abandoned_tasks
from portal.tickets.tasks import escalate_sla

pytestmark = pytest.mark.django_db


def running_task(*, worker_ids: list[str], minutes_ago: int = 5) -> DBTaskResult:
    result = escalate_sla.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING",
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        worker_ids=worker_ids,
    )
    return DBTaskResult.objects.get(pk=result.id)


def test_a_task_of_a_worker_without_heartbeat_goes_back_to_the_queue():
    task = running_task(worker_ids=["host:dead"])
    assert reap_abandoned_tasks() == [str(task.pk)]
    task.refresh_from_db()
    assert task.status == "READY"
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()  # a worker will take it


def test_a_task_of_a_live_worker_is_left_alone():
    beat("host:alive")
    task = running_task(worker_ids=["host:dead", "host:alive"])
    assert reap_abandoned_tasks() == []
    task.refresh_from_db()
    assert task.status == "RUNNING"


def test_a_task_that_just_started_is_left_alone_even_without_a_heartbeat():
    # Its worker may not have written its first heartbeat yet.
    task = running_task(worker_ids=["host:new"], minutes_ago=0)
    assert reap_abandoned_tasks() == []
    task.refresh_from_db()
    assert task.status == "RUNNING"


def test_a_task_that_keeps_losing_its_worker_is_failed_with_the_reason(settings):
    settings.WORKER_TASK_MAX_ATTEMPTS = 3
    task = running_task(worker_ids=["host:a", "host:b", "host:c"])
    assert reap_abandoned_tasks() == [str(task.pk)]
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert task.finished_at is not None
    assert task.exception_class_path == "portal.core.worker.WorkerLost"
    assert "Given up after 3 attempts" in task.traceback
    assert "host:c" in task.traceback
