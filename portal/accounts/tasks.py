"""Housekeeping of accounts (run by the task worker's periodic schedule)."""

from django.tasks import task

from portal.accounts import throttle


@task()
def prune_login_throttle() -> int:
    """Drop sign-in counters untouched for a day (and not locking anything); idempotent."""
    return throttle.prune()
