"""Reads of notifications shared by views and templates."""

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from portal.notifications.models import Notification

# The bell's count is on every page and polled every 30 s by each open one: it is cached
# per person and dropped whenever their notifications change (`forget_unread_counts`, from
# the services and a model signal); the timeout only bounds a count some other bulk write
# (the retention job's deletes) left behind.
BELL_SECONDS = 60


def _bell_key(user_id: int) -> str:
    return f"bell:{user_id}"


def unread_count(user) -> int:
    """From the cache, else one query served by the partial index on unread notifications."""
    key = _bell_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, count, BELL_SECONDS)
    return count


def forget_unread_counts(user_ids: Iterable[int]) -> None:
    """These people's next page counts again: now, and when the transaction commits (a
    page read in between may have cached the count from before the change)."""
    keys = [_bell_key(pk) for pk in set(user_ids)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
