"""Counting page views per section per day, in one statement, never failing a request.

Which requests count: successful (2xx) full-page GETs. Static files, the health check,
htmx partial swaps (the same page refreshing part of itself), files (an article's image,
a download: anything not HTML) and anything that is not a GET are skipped. The section is
the first path segment when it is on the allow-list, otherwise "other": the rest of the
path is never looked at again, so ticket numbers or search words cannot end up in the
counts.
"""

import logging

from django.conf import settings
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


def _upsert_sql() -> str:
    table = connection.ops.quote_name(PageView._meta.db_table)
    # One statement on PostgreSQL and SQLite (≥ 3.24) alike: it inserts the day's first
    # view and increments every later one. Concurrent requests serialise on the unique
    # key's row; none is lost and none fails (an UPDATE-then-INSERT would need a retry
    # when two processes both miss, and two round trips on the first view of the day).
    return (
        f"INSERT INTO {table} (day, section, views) VALUES (%s, %s, 1) "  # noqa: S608 - names are constants of this module
        f"ON CONFLICT (day, section) DO UPDATE SET views = {table}.views + 1"
    )


def record_page_view(section: str) -> bool:
    """Add one view of `section` today. False (and a log line) if the database refused.

    The middleware runs outside any view's transaction (ATOMIC_REQUESTS only wraps the
    view), so the statement commits on its own and a failure leaves nothing half-done.
    """
    day = connection.ops.adapt_datefield_value(timezone.localdate())
    try:
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(), [day, section])
    except DatabaseError:
        log.warning("page view not counted", exc_info=True)
        return False
    return True
