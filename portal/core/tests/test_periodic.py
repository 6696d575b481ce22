import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.core.periodic import enqueue_due_tasks

pytestmark = pytest.mark.django_db

SWEEP = "portal.notifications.tasks.sweep_email_outbox"


def test_a_periodic_task_is_enqueued_once_per_period_however_many_workers_ask(settings):
    settings.PERIODIC_TASKS = {SWEEP: 30}
    now = timezone.now()
    assert enqueue_due_tasks(now) == [SWEEP]
    # A second worker ticking in the same period finds it claimed.
    assert enqueue_due_tasks(now + dt.timedelta(seconds=5)) == []
    assert enqueue_due_tasks(now + dt.timedelta(seconds=31)) == [SWEEP]
    assert DBTaskResult.objects.count() == 2
    assert set(DBTaskResult.objects.values_list("task_path", flat=True)) == {SWEEP}
