"""The analytics page's figures, kept for a short time per scope (ANALYTICS_CACHE_SECONDS).

Why: at 1,000,000 tickets one /analytics page costs 30–160 ms of SQL (the rollup's
breakdowns, percentiles and SLA compliance over the period's tickets) and 40–70 ms of
Python (mostly rendering ten charts and their tables), for figures by the day that nobody
needs exact to the second. The page says how old its figures are ("as of 10:42").

What is kept, per key: the moment of computation, the figures, the SLA compliance and,
once the page has drawn them, the rendered results (headline figures, tables, charts).
The CSV downloads read the same entry, so a chart and its CSV always agree.

The key holds everything the kept value depends on, and nothing else:

- the viewer's scope exactly as `Reach.work_q` (what `work_tickets` shows them) reads it:
  everything (an admin, who also gets the usage chart), or their teams and groups and,
  when they are on a team, their own id (tickets assigned to them outside their teams);
  two viewers share an entry only when they count the same tickets;
- the page's validated parameters (`AnalyticsForm.query()`: period choice, filters) and
  the period's first and last day (so "last 30 days" moves on at midnight).

The scope comes from `access.reach_of`, read on every request from the roles (whose
cache is invalidated when memberships change), so a viewer whose scope changes gets
another key at once; the old entry only expires.
"""

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, fields

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template
from django.utils import timezone

from portal.analytics.figures import Figures
from portal.analytics.period import Period
from portal.analytics.sla import Compliance
from portal.tickets.access import Reach

PREFIX = "analytics:figures:v1:"
RESULTS_TEMPLATE = "analytics/_results.html"


@dataclass
class Kept:
    as_of: dt.datetime
    figures: Figures
    sla: Compliance
    html: str | None = None  # the rendered results, once a page has drawn them


def scope_of(reach: Reach) -> tuple:
    """The inputs of `Reach.work_q`: equal tuples mean the same work tickets."""
    if reach.user_id is None:
        return ("nobody",)
    if reach.everything:
        return ("everything",)
    own = reach.user_id if reach.team_ids else None  # work_q adds "assigned to me"
    return ("teams", reach.team_ids, "groups", reach.group_ids, "assigned to", own)


def key_of(reach: Reach, query: str, period: Period) -> str:
    raw = repr((_deploy(), scope_of(reach), query, period.first_day, period.last_day))
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()


@functools.cache
def _deploy() -> str:
    """What a kept entry's shape and drawing depend on in the code (the results template,
    the kept classes' fields): after a deploy that changes them, no entry of the one
    before is read, whether it would not unpickle or would draw the old page."""
    source = get_template(RESULTS_TEMPLATE).template.source  # type: ignore[attr-defined]
    shapes = [[f.name for f in fields(kind)] for kind in (Kept, Figures, Compliance)]
    return hashlib.sha256(repr((source, shapes)).encode()).hexdigest()[:16]


def seconds() -> int:
    return settings.ANALYTICS_CACHE_SECONDS


def get(key: str) -> Kept | None:
    if not seconds():
        return None
    return cache.get(key)


def put(key: str, kept: Kept) -> None:
    """Keep `kept` until ANALYTICS_CACHE_SECONDS after it was computed (not after this
    write: the page adding its drawing to a CSV's entry does not make it live longer)."""
    left = seconds() - (timezone.now() - kept.as_of).total_seconds()
    if left >= 1:
        cache.set(key, kept, int(left))
