"""Per-user request limits: a fixed one-minute window counted in the database.

One upsert per request (`INSERT … ON CONFLICT DO UPDATE … RETURNING count`), so every app
server shares the count and nothing lives in process memory. A fixed window lets a client
make up to twice the limit across a window boundary; for a guard against runaway scripts
that is an acceptable trade for a single statement per request.
"""

import datetime as dt
import math

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.api.models import ApiRateWindow

WINDOW_SECONDS = 60
DEFAULT_PER_MINUTE = 600


def limit_per_minute() -> int:
    """API_RATE_LIMIT_PER_MINUTE (read at call time so tests and settings can change it)."""
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE))


def _window_start(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


def _upsert_sql() -> str:
    q = connection.ops.quote_name
    table, key, start, count = (
        q(ApiRateWindow._meta.db_table),
        q("key"),
        q("window_start"),
        q("count"),
    )
    # Works on PostgreSQL and SQLite ≥ 3.35 alike (ON CONFLICT … RETURNING).
    return (
        f"INSERT INTO {table} ({key}, {start}, {count}) VALUES (%s, %s, 1) "  # noqa: S608 - names are ours
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {count}"
    )


def hit(key: str, *, now: dt.datetime | None = None) -> float | None:
    """Count one request for `key`; None if allowed, else seconds until the window ends."""
    now = now or timezone.now()
    start = _window_start(now)
    with connection.cursor() as cursor:
        # Adapted as the ORM would store it, so raw and ORM queries see the same value.
        stamp = connection.ops.adapt_datetimefield_value(start)
        cursor.execute(_upsert_sql(), [key[:64], stamp])
        (count,) = cursor.fetchone()
    if count <= limit_per_minute():
        return None
    remaining = (start + dt.timedelta(seconds=WINDOW_SECONDS) - now).total_seconds()
    return max(1.0, math.ceil(remaining))


def prune(*, now: dt.datetime | None = None) -> int:
    """Drop the windows that have ended (run periodically)."""
    cutoff = _window_start(now or timezone.now())
    deleted, _ = ApiRateWindow.objects.filter(window_start__lt=cutoff).delete()
    return deleted
