from django.db import models
from django.utils import timezone


class RetentionRun(models.Model):
    """One run of the retention job: when, and how many rows of each kind it deleted."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, help_text="Rule code → rows deleted.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"retention run {self.started_at:%Y-%m-%d %H:%M}: {self.counts}"
