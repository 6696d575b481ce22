"""The /analytics figures of one user, read from the rollup (rollup.py) instead of tickets.

A user's analytics scope (`access.worked_tickets`: an admin's everything, a SPOC's groups,
an agent's teams and the tickets assigned to them) is split in two disjoint parts, both
derived from the user's `access.Reach`:

- the part the rollup can express — everything, or team ∈ my teams ∨ group ∈ my groups —
  read from `analytics_ticketcount` (a few rows per day instead of every ticket);
- the *residual*: tickets assigned to an agent outside their teams and groups (a handful:
  assignees are team members), counted by the direct query of figures.py on just those.

Their rows are summed, so the result equals the direct count of the whole scope. The
filters (group, category, team, priority) are dimensions of every rollup row.

What the rollup cannot hold exactly is read from the tickets, through covering indexes
(index-only scans bounded by the period): the percentiles, and the age buckets' four
boundary days (the rollup knows the day a ticket was raised; "under 1 day" needs the time).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q

from portal.accounts.models import User
from portal.analytics import sql
from portal.analytics.models import TicketCount
from portal.analytics.period import Period, day_start
from portal.analytics.rollup import local_day
from portal.catalog.models import BusinessUnitGroup, Category, Subcategory, Team
from portal.lib.replica import read_connection as connection  # replica when usable
from portal.tickets import access
from portal.tickets.access import Reach
from portal.tickets.models import OPEN_STATUSES

M = TicketCount.Measure
COLUMNS = ["day", "status", "priority", "group_id", "category_id", "subcategory_id", "team_id",
           "assignee_id"]  # fmt: skip
# Per measure, the groupings read (each a GROUP BY, or one GROUPING SETS on PostgreSQL).
GROUPINGS = {
    M.CREATED: [("day",), ("status",), ("priority",), ("group_id",), ("category_id",),
                ("subcategory_id",), ("team_id",)],
    M.RESOLVED: [("day",), ("team_id",), ("assignee_id",)],
    M.OPEN: [("team_id", "assignee_id")],
    M.OPEN_BY_DAY: [("day",)],
    M.RESOLUTIONS: [()],
    M.REOPENS: [()],
}  # fmt: skip
# Created-in-period breakdowns: rollup column → figures.BREAKDOWNS name.
BREAKDOWN_OF = {
    "status": "status", "priority": "priority", "group_id": "group", "category_id": "category",
    "subcategory_id": "subcategory", "team_id": "team",
}  # fmt: skip
NAMED = {"group_id": BusinessUnitGroup, "category_id": Category, "subcategory_id": Subcategory,
         "team_id": Team, "assignee_id": User}  # fmt: skip
AGE_DAYS = (1, 7, 30, 90)  # lower bounds of the age buckets after the first


@dataclass(frozen=True)
class Filters:
    group_id: int | None = None
    category_id: int | None = None
    team_id: int | None = None
    priority: str = ""

    def items(self) -> list[tuple[str, object]]:
        return [(name, getattr(self, name)) for name in ("group_id", "category_id", "team_id",
                "priority") if getattr(self, name)]  # fmt: skip

    def ticket_q(self) -> Q:
        return Q(**dict(self.items()))


def work_tickets(user, filters: Filters):
    """The tickets `user` works on (`access.worked_tickets`) narrowed by `filters`."""
    return access.worked_tickets(user).filter(filters.ticket_q())


def _where(measure: str, reach: Reach, filters: Filters, period: Period, oldest_day):
    """(SQL condition, params) selecting one measure's rows in scope, filters and period."""
    conditions, params = ["measure = %s"], [measure]
    if measure in (M.CREATED, M.RESOLVED, M.RESOLUTIONS, M.REOPENS):
        conditions.append("day >= %s AND day <= %s")
        params += [period.first_day, period.last_day]
    elif measure == M.OPEN_BY_DAY:
        conditions.append("day >= %s")
        params.append(oldest_day)
    if not reach.everything:
        # The rollup part of the user's reach (Reach.team_or_group_q), in SQL.
        parts = []
        for column, ids in (("team_id", reach.team_ids), ("group_id", reach.group_ids)):
            if ids:
                parts.append(f"{column} IN ({', '.join(['%s'] * len(ids))})")
                params += ids
        conditions.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")
    for column, value in filters.items():
        conditions.append(f"{column} = %s")
        params.append(value)
    return " AND ".join(conditions), params


def _statement(reach: Reach, filters: Filters, period: Period, oldest_day):
    table = connection.ops.quote_name(TicketCount._meta.db_table)
    branches, params = [], []
    for measure, groupings in GROUPINGS.items():
        where, where_params = _where(measure, reach, filters, period, oldest_day)
        if connection.vendor == "postgresql" and len(groupings) > 1:
            used = {column for grouping in groupings for column in grouping}
            sets = ", ".join("(" + ", ".join(grouping) + ")" for grouping in groupings)
            group_by = [f"GROUP BY GROUPING SETS ({sets})"]
            selects = [[c if c in used else "NULL" for c in COLUMNS]]
        else:
            group_by = [f"GROUP BY {', '.join(g)}" if g else "" for g in groupings]
            selects = [[c if c in g else "NULL" for c in COLUMNS] for g in groupings]
        for select, tail in zip(selects, group_by, strict=True):
            branches.append(
                f"SELECT %s, {', '.join(select)}, SUM(n) FROM {table} WHERE {where} {tail}"  # noqa: S608 - names are constants of this module
            )
            params += [measure, *where_params]
    return " UNION ALL ".join(branches), params


def _names(ids: dict[str, set]) -> dict[tuple[str, int], str]:
    """Display names of the ids the rows mention, in one query."""
    branches, params = [], []
    for column, model in NAMED.items():
        wanted = sorted(i for i in ids.get(column, ()) if i)
        if not wanted:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        label = "COALESCE(NULLIF(full_name, ''), email)" if model is User else "name"
        branches.append(
            f"SELECT %s, id, {label} FROM {table} WHERE id IN ({', '.join(['%s'] * len(wanted))})"  # noqa: S608 - names are constants of this module
        )
        params += [column, *wanted]
    if not branches:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        return {(column, pk): name for column, pk, name in cursor.fetchall()}


def _age_thresholds(now: dt.datetime) -> list[tuple[dt.datetime, dt.date]]:
    """(instant now − k days, its calendar day) for each age bucket boundary."""
    return [(now - dt.timedelta(days=k), local_day(now - dt.timedelta(days=k))) for k in AGE_DAYS]


def _boundary_counts(user, filters: Filters, now: dt.datetime) -> list[int]:
    """Open tickets raised on a boundary day but after its boundary instant (one query).

    The rollup counts open tickets per day raised; on the day containing now − k days,
    only those raised after that instant are younger than k days. Each window is a short
    range of the created_at covering index.
    """
    windows = [
        Q(created_at__gt=instant, created_at__lt=day_start(day + dt.timedelta(days=1)))
        for instant, day in _age_thresholds(now)
    ]
    either = Q(pk__in=[])
    for window in windows:
        either |= window
    counts = (
        access.worked_tickets(user, part="teams_and_groups")
        .filter(filters.ticket_q(), either, status__in=OPEN_STATUSES)
        .order_by()
        .aggregate(**{f"w{i}": Count("pk", filter=w) for i, w in enumerate(windows)})
    )  # fmt: skip
    return [counts[f"w{i}"] for i in range(len(windows))]


def rollup_rows(user, filters: Filters, period: Period, now: dt.datetime):
    """(rows as figures._fill_counts reads them, resolutions, reopens) for the rollup part."""
    thresholds = _age_thresholds(now)
    oldest_day = thresholds[-1][1]
    statement, params = _statement(access.reach_of(user), filters, period, oldest_day)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        result = cursor.fetchall()
    ids: dict[str, set] = defaultdict(set)
    for row in result:
        for column, value in zip(COLUMNS, row[1:-1], strict=True):
            if column in NAMED and value is not None:
                ids[column].add(value)
    names = _names(ids)

    def key_label(column, value):
        if column in NAMED:
            return (str(value) if value else ""), names.get((column, value), "")
        return str(value), str(value)

    totals: dict[tuple[str, str], list] = {}

    def add(kind, key="", label="", n=0):
        entry = totals.setdefault((kind, key), [label, 0])
        entry[1] += n

    by_day: dict[dt.date, int] = defaultdict(int)
    total_open = resolutions = reopens = 0
    for measure, *values, n in result:
        n = int(n or 0)
        grouped = {c: v for c, v in zip(COLUMNS, values, strict=True) if v is not None}
        if measure == M.CREATED:
            ((column, value),) = grouped.items()
            if column == "day":
                add("created", n=n)
                add("created_day", str(value)[:10], n=n)
            else:
                add(BREAKDOWN_OF[column], *key_label(column, value), n=n)
        elif measure == M.RESOLVED:
            ((column, value),) = grouped.items()
            if column == "day":
                add("resolved", n=n)
                add("resolved_day", str(value)[:10], n=n)
            elif column == "team_id":
                add("team_resolved", *key_label(column, value), n=n)
            elif value:
                add("agent_resolved", *key_label(column, value), n=n)
        elif measure == M.OPEN:
            team, assignee = grouped["team_id"], grouped["assignee_id"]
            total_open += n
            add("team_open", *key_label("team_id", team), n=n)
            if assignee:
                add("agent_open", *key_label("assignee_id", assignee), n=n)
            else:
                add("team_unassigned", *key_label("team_id", team), n=n)
        elif measure == M.OPEN_BY_DAY:
            by_day[dt.date.fromisoformat(str(grouped["day"])[:10])] += n
        elif measure == M.RESOLUTIONS:
            resolutions += n
        elif measure == M.REOPENS:
            reopens += n
    # Open tickets younger than k days: whole days after the boundary day from the rollup,
    # the boundary day's part after the boundary instant from the tickets.
    boundary = _boundary_counts(user, filters, now)
    younger = [
        sum(n for day, n in by_day.items() if day > boundary_day) + extra
        for (_, boundary_day), extra in zip(thresholds, boundary, strict=True)
    ]
    edges = [0, *younger, total_open]
    for index in range(len(edges) - 1):
        add("age", str(index), n=edges[index + 1] - edges[index])
    rows = [(kind, key, label, n) for (kind, key), (label, n) in totals.items()]
    return rows, resolutions, reopens


def merge(*row_lists) -> list[tuple[str, str, str, int]]:
    """Sum (kind, key, label, count) rows of disjoint ticket sets."""
    totals: dict[tuple[str, str], list] = {}
    for rows in row_lists:
        for kind, key, label, n in rows:
            entry = totals.setdefault((kind, key or ""), [label or "", 0])
            entry[0] = entry[0] or label or ""
            entry[1] += n
    return [(kind, key, label, n) for (kind, key), (label, n) in totals.items()]


def percentiles(tickets, period: Period, fractions) -> dict[tuple[str, float], float | None]:
    """{("frt"|"ttr", fraction): seconds} over `tickets`, reading only covering indexes.

    First response: tickets raised in the period that have one (the created_at index);
    resolution: tickets whose current resolution is in the period (the resolved_at index).
    One statement; the sort of the period's durations is the only work left.
    """
    frt = (
        tickets.filter(created_at__gte=period.start, created_at__lt=period.end,
                       first_response_at__isnull=False)
        .order_by()
        .annotate(v=sql.Seconds(F("first_response_at"), F("created_at")))
        .values("v")
    )  # fmt: skip
    ttr = (
        tickets.filter(resolved_at__gte=period.start, resolved_at__lt=period.end)
        .order_by()
        .annotate(v=sql.Seconds(F("resolved_at"), F("created_at")))
        .values("v")
    )
    frt_sql, frt_params = frt.query.sql_with_params()
    ttr_sql, ttr_params = ttr.query.sql_with_params()
    if sql.is_postgres():
        array = "ARRAY[" + ", ".join(repr(float(f)) for f in fractions) + "]"
        pct = f"PERCENTILE_CONT({array}) WITHIN GROUP (ORDER BY v)"  # our floats, inlined
        statement = f"SELECT (SELECT {pct} FROM ({frt_sql}) a), (SELECT {pct} FROM ({ttr_sql}) b)"  # noqa: S608 - built from the ORM
        with connection.cursor() as cursor:
            cursor.execute(statement, (*frt_params, *ttr_params))
            frt_values, ttr_values = cursor.fetchone()
        result = {}
        for name, values in (("frt", frt_values), ("ttr", ttr_values)):
            for index, fraction in enumerate(fractions):
                result[(name, fraction)] = values[index] if values else None
        return result
    base = (
        f"base (frt, ttr) AS (SELECT v, NULL FROM ({frt_sql}) a "  # noqa: S608 - built from the ORM
        f"UNION ALL SELECT NULL, v FROM ({ttr_sql}) b)"
    )
    return sql.sqlite_percentiles(base, (*frt_params, *ttr_params), ["frt", "ttr"], fractions)
