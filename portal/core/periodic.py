"""Enqueueing PERIODIC_TASKS when they fall due (called from the worker's heartbeat thread)."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.core.models import PeriodicRun

log = logging.getLogger("portal.tasks")


def enqueue_due_tasks(now: dt.datetime | None = None) -> list[str]:
    """Enqueue each periodic task whose time has come; returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for name, every in settings.PERIODIC_TASKS.items():
        PeriodicRun.objects.get_or_create(name=name, defaults={"next_run_at": now})
        claimed = PeriodicRun.objects.filter(name=name, next_run_at__lte=now).update(
            next_run_at=now + dt.timedelta(seconds=every)
        )
        if claimed:
            import_string(name).enqueue()
            enqueued.append(name)
    return enqueued
