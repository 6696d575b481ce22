"""SLA compliance for the analytics page: % of targets met, per group, team and priority.

A target is *decided in the period* when it was met in the period (first response, or
resolution, time inside it) or when it fell due inside the period (before now) without
being met: a ticket still open past its due time counts as missed, so ignoring tickets
nobody resolved cannot flatter the figure. *Met* means met on or before the due time
(or while the clock was paused short of it, as `sla.clock.state` says).

One query: the four ways a target is decided in the period, each a range of a covering
index over tickets under an SLA (tickets migration 0010), stacked and counted per
(group, team, priority); the three breakdowns are summed from those few rows in Python.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from portal.analytics.period import Period
from portal.catalog.models import BusinessUnitGroup, Priority, Team
from portal.lib.replica import read_connection as connection  # replica when usable
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


def _branches(period: Period, now: dt.datetime):
    """(condition, response met?, resolution met?) per way a target is decided in the period.

    Four disjoint ways, each a range of one covering index (tickets migration 0010): a
    response met in the period, an open ticket's response due in the period (before now)
    and not given, the same two for the resolution. "Met" is on or before the due time.
    """
    due_by = min(period.end, now)
    opened = Q(status__in=OPEN_STATUSES)
    return [
        (
            "response",
            Q(first_response_at__gte=period.start, first_response_at__lt=period.end),
            Q(sla_response_due_at__isnull=True)
            | Q(first_response_at__lte=F("sla_response_due_at")),
        ),
        (
            "response",
            opened & Q(first_response_at__isnull=True, sla_response_due_at__gte=period.start,
                       sla_response_due_at__lt=due_by),
            None,
        ),
        (
            "resolution",
            Q(resolved_at__gte=period.start, resolved_at__lt=period.end),
            Q(sla_resolution_due_at__isnull=True)
            | Q(resolved_at__lte=F("sla_resolution_due_at")),
        ),
        (
            "resolution",
            opened & Q(resolved_at__isnull=True, sla_resolution_due_at__gte=period.start,
                       sla_resolution_due_at__lt=due_by),
            None,
        ),
    ]  # fmt: skip


COLUMNS = ["s_group", "s_team", "s_priority", "s_response_total", "s_response_met",
           "s_resolution_total", "s_resolution_met"]  # fmt: skip


def compliance(tickets, period: Period, *, now: dt.datetime | None = None) -> Compliance:
    """% met per group, team and priority for `tickets` (visible, filtered) over `period`.

    One statement: the four ways a target is decided (`_branches`), each an index range
    over tickets under an SLA, stacked with UNION ALL and summed per (group, team,
    priority) with the names joined to those few rows.
    """
    now = now or timezone.now()
    one, zero = Value(1), Value(0)
    parts, params = [], []
    for target, condition, met in _branches(period, now):
        counts = {
            "response": (zero, zero), "resolution": (zero, zero),
            target: (one, Case(When(met, then=one), default=zero) if met is not None else zero),
        }  # fmt: skip
        branch = (
            tickets.filter(condition, sla_policy_name__gt="")
            .order_by()
            .annotate(
                s_group=F("group_id"), s_team=F("team_id"), s_priority=F("priority"),
                s_response_total=counts["response"][0], s_response_met=counts["response"][1],
                s_resolution_total=counts["resolution"][0],
                s_resolution_met=counts["resolution"][1],
            )
            .values(*COLUMNS)
        )  # fmt: skip
        if list(branch.query.annotation_select) != COLUMNS:
            raise RuntimeError("Unexpected column order in the SLA compliance branches.")
        branch_sql, branch_params = branch.query.sql_with_params()
        parts.append(branch_sql)
        params.extend(branch_params)
    q = connection.ops.quote_name
    groups, teams = q(BusinessUnitGroup._meta.db_table), q(Team._meta.db_table)
    # Sum first, join the names to the hundred-odd sums after: grouping by the names too
    # made PostgreSQL join them to every row (235,000 for an admin over 90 days at 1M
    # tickets) and sort those on disk (≈250 ms against ≈35 ms).
    statement = (
        "SELECT u.s_group, g.name, u.s_team, t.name, u.s_priority, u.rt, u.rm, u.st, u.sm "  # noqa: S608 - names from the models
        "FROM (SELECT s_group, s_team, s_priority, SUM(s_response_total) AS rt, "
        "SUM(s_response_met) AS rm, SUM(s_resolution_total) AS st, SUM(s_resolution_met) AS sm "
        f"FROM ({' UNION ALL '.join(parts)}) b GROUP BY s_group, s_team, s_priority) u "
        f"LEFT JOIN {groups} g ON g.id = u.s_group LEFT JOIN {teams} t ON t.id = u.s_team"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    names = ["group_id", "group__name", "team_id", "team__name", "priority", "response_total",
             "response_met", "resolution_total", "resolution_met"]  # fmt: skip
    rows = [dict(zip(names, row, strict=True)) for row in fetched]
    result = Compliance()
    tables: dict[str, dict] = {key: {} for key, _ in DIMENSIONS}
    priority_labels = dict(Priority.choices)
    for row in rows:
        for name in names[5:]:
            row[name] = int(row[name] or 0)
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
