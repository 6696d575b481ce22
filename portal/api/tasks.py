"""Housekeeping of the API (run by the task worker's periodic schedule)."""

from django.tasks import task

from portal.api import ratelimit


@task()
def prune_rate_windows() -> int:
    """Drop rate-limit counters of minutes that have ended; idempotent."""
    return ratelimit.prune()
