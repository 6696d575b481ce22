"""Operational records."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each task worker process said it was alive (read by /healthz)."""

    worker_id = models.CharField(max_length=64, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


class PeriodicRun(models.Model):
    """When a periodic task is next due. Workers claim a run with a conditional UPDATE,
    so with any number of workers each period's task is enqueued once."""

    name = models.CharField(max_length=200, unique=True)
    next_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M:%S}"
