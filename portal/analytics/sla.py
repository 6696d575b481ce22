"""SLA compliance for the analytics page: % of targets met, per group, team and priority.

A target is *decided in the period* when it was met in the period (first response, or
resolution, time inside it) or when it fell due inside the period (before now) without
being met: a ticket still open past its due time counts as missed, so ignoring tickets
nobody resolved cannot flatter the figure. *Met* means met on or before the due time
(or while the clock was paused short of it, as `sla.clock.state` says).

One query: the visible, filtered tickets narrowed like the other figures (open now, or
touched since the period began: meeting a target bumps `updated_at`), grouped by
(group, team, priority) with four conditional counts; the three breakdowns are summed
from those few rows in Python.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.utils import timezone

from portal.analytics.period import Period
from portal.catalog.models import Priority
from portal.tickets.models import OPEN_STATUSES

DIMENSIONS = (("group", "Business unit group"), ("team", "Team"), ("priority", "Priority"))


@dataclass
class Row:
    label: str
    response_met: int = 0
    response_total: int = 0
    resolution_met: int = 0
    resolution_total: int = 0

    def add(self, other: dict) -> None:
        for name in ("response_met", "response_total", "resolution_met", "resolution_total"):
            setattr(self, name, getattr(self, name) + other[name])

    @staticmethod
    def _percent(met: int, total: int) -> int | None:
        return round(100 * met / total) if total else None

    @property
    def response_percent(self) -> int | None:
        return self._percent(self.response_met, self.response_total)

    @property
    def resolution_percent(self) -> int | None:
        return self._percent(self.resolution_met, self.resolution_total)


@dataclass
class Compliance:
    total: Row = field(default_factory=lambda: Row("All"))
    # dimension → rows, largest first
    breakdowns: dict[str, list[Row]] = field(default_factory=dict)

    def tables(self) -> list[tuple[str, str, list[Row]]]:
        return [(key, label, self.breakdowns.get(key, [])) for key, label in DIMENSIONS]


def _decided(met_at: str, due: str, period: Period, now: dt.datetime) -> tuple[Q, Q]:
    """(decided in the period, met on time) for one target, as conditions."""
    met_in_period = Q(**{f"{met_at}__gte": period.start, f"{met_at}__lt": period.end})
    missed_in_period = Q(
        **{
            f"{met_at}__isnull": True,
            "status__in": OPEN_STATUSES,
            f"{due}__gte": period.start,
            f"{due}__lt": min(period.end, now),
        }
    )
    on_time = met_in_period & (Q(**{f"{due}__isnull": True}) | Q(**{f"{met_at}__lte": F(due)}))
    return met_in_period | missed_in_period, on_time


def compliance(tickets, period: Period, *, now: dt.datetime | None = None) -> Compliance:
    """% met per group, team and priority for `tickets` (visible, filtered) over `period`."""
    now = now or timezone.now()
    response, response_met = _decided("first_response_at", "sla_response_due_at", period, now)
    resolution, resolution_met = _decided("resolved_at", "sla_resolution_due_at", period, now)
    rows = (
        tickets.filter(Q(status__in=OPEN_STATUSES) | Q(updated_at__gte=period.start))
        .filter(response | resolution, sla_policy_name__gt="")
        .order_by()
        .values("group_id", "group__name", "team_id", "team__name", "priority")
        .annotate(
            response_total=Count("pk", filter=response),
            response_met=Count("pk", filter=response_met),
            resolution_total=Count("pk", filter=resolution),
            resolution_met=Count("pk", filter=resolution_met),
        )
    )
    result = Compliance()
    tables: dict[str, dict] = {key: {} for key, _ in DIMENSIONS}
    priority_labels = dict(Priority.choices)
    for row in rows:
        result.total.add(row)
        keys = {
            "group": (row["group_id"], row["group__name"]),
            "team": (row["team_id"], row["team__name"] or "No team"),
            "priority": (row["priority"], priority_labels.get(row["priority"], row["priority"])),
        }
        for dimension, (key, label) in keys.items():
            tables[dimension].setdefault(key, Row(label)).add(row)
    for dimension, table in tables.items():
        result.breakdowns[dimension] = sorted(
            table.values(), key=lambda r: (-(r.response_total + r.resolution_total), r.label)
        )
    return result
