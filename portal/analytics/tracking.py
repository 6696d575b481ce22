"""Counting page views per section per day, off the request path, never failing a request.

A view adds one to a counter in the cache (no query); the counters go to the database in
one statement for all sections (`flush_page_views`) at most once a minute, by the first
request after that minute (whoever claims the flush), and before the analytics page reads
them. With the cache in local memory (`make run`) a process that stops loses at most its
last minute of counts; with a shared cache (Redis) none.

Which requests count: successful (2xx) full-page GETs. Static files, the health check,
htmx partial swaps (the same page refreshing part of itself), files (an article's image,
a download: anything not HTML) and anything that is not a GET are skipped. The section is
the first path segment when it is on the allow-list, otherwise "other": the rest of the
path is never looked at again, so ticket numbers or search words cannot end up in the
counts.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from portal.analytics.models import PageView

log = logging.getLogger("portal.analytics")

SECTIONS = (
    "dashboard",
    "tickets",
    "analytics",
    "teams",
    "masters",
    "settings",
    "notifications",
    "sla",
    "login",
    "admin",
)
OTHER = "other"
SKIPPED_PATHS = ("/healthz", "/healthz/ready", "/healthz/live")


def section_for(path: str) -> str:
    """`/tickets/TKT-000123` → "tickets"; `/whatever` → "other"."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in SECTIONS else OTHER


def should_count(request, response) -> bool:
    if request.method != "GET" or not 200 <= response.status_code < 300:
        return False
    path = request.path
    # API calls are not page views; neither are static files.
    if path.startswith((settings.STATIC_URL, "/api/")) or path in SKIPPED_PATHS:
        return False
    # A file or an image is part of a page (or a download), not a page of its own.
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    # An htmx request swaps part of a page already counted.
    return request.headers.get("HX-Request") != "true"


FLUSH_SECONDS = 60
_COUNTER = "pageviews:{day}:{section}"
_FLUSH_DUE = "pageviews:flush-due"  # when the oldest unwritten count must be written
_FLUSHING = "pageviews:flushing"  # one flush at a time (a shared cache has many writers)


def _upsert_sql(rows: int) -> str:
    table = connection.ops.quote_name(PageView._meta.db_table)
    # One statement on PostgreSQL and SQLite (≥ 3.24) alike: it inserts a day's first
    # count and adds to later ones. Concurrent flushes serialise on the unique key's row;
    # none is lost and none fails.
    values = ", ".join(["(%s, %s, %s)"] * rows)
    return (
        f"INSERT INTO {table} (day, section, views) VALUES {values} "  # noqa: S608 - names are constants of this module
        f"ON CONFLICT (day, section) DO UPDATE SET views = {table}.views + excluded.views"
    )


def record_page_view(section: str) -> None:
    """Add one view of `section` today, in the cache (no query); write the counts if they
    have waited a minute."""
    key = _COUNTER.format(day=timezone.localdate().isoformat(), section=section)
    if not cache.add(key, 1, timeout=None):
        try:
            cache.incr(key)
        except ValueError:  # flushed and expired in between
            cache.add(key, 1, timeout=None)
    cache.add(_FLUSH_DUE, time.time() + FLUSH_SECONDS, timeout=None)
    if (cache.get(_FLUSH_DUE) or 0) <= time.time():
        flush_page_views()


def flush_page_views() -> bool:
    """Write the cached counts of today and yesterday in one statement. False (and a log
    line) if the database refused: the counts stay in the cache for the next try."""
    if not cache.add(_FLUSHING, 1, timeout=30):
        return True  # another process is writing them
    try:
        today = timezone.localdate()
        keys = {
            _COUNTER.format(day=day.isoformat(), section=section): (day, section)
            for day in (today - dt.timedelta(days=1), today)
            for section in (*SECTIONS, OTHER)
        }
        counts = {key: n for key, n in cache.get_many(list(keys)).items() if n}
        cache.delete(_FLUSH_DUE)
        if not counts:
            return True
        params = []
        for key, views in counts.items():
            day, section = keys[key]
            params += [connection.ops.adapt_datefield_value(day), section, views]
        try:
            with connection.cursor() as cursor:
                cursor.execute(_upsert_sql(len(counts)), params)
        except DatabaseError:
            log.warning("page view not counted", exc_info=True)
            return False
        for key, views in counts.items():
            # Views counted since the read stay for the next flush.
            try:
                cache.decr(key, views)
            except ValueError:  # evicted meanwhile: nothing left to subtract from
                pass
        return True
    finally:
        cache.delete(_FLUSHING)
