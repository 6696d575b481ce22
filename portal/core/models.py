"""Operational records."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each task worker process said it was alive (read by /healthz)."""

    worker_id = models.CharField(max_length=64, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
