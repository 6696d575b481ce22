"""The /analytics figures, computed in the database in a constant number of queries.

Everything starts from the tickets `user` works on (`views.work_tickets`: their teams,
their groups, or all for an admin; not those they merely raised or watch) narrowed by the
validated filters, so a person only ever counts tickets they could open, and two people
who work the same tickets count the same (kept.py shares their figures).
Definitions (see docs/analytics.md):

- created: tickets whose `created_at` falls in the period;
- resolved: tickets whose current resolution (`resolved_at`) falls in the period; a ticket
  reopened since has no resolution and is not counted;
- open backlog: tickets open *now* (new, in progress, on hold), with age buckets by how
  long ago they were raised;
- time to first response: `first_response_at − created_at` of tickets created in the period
  that have been answered; time to resolution: `resolved_at − created_at` of tickets
  resolved in the period; both as median and 90th percentile;
- reopen rate: status changes in the period from Resolved/Closed back to an open status,
  divided by status changes to Resolved in the period (from the ticket history).

Two ways to the same numbers:

- `compute_for(user, filters, period)` — what the page uses: counts from the exact daily
  rollup (rollup.py, scoped.py), percentiles and the age buckets' boundary days from
  covering indexes of the tickets; an agent's tickets outside their teams (the one part
  of a scope the rollup cannot express) by the direct query below, added on.
- `compute(tickets, period)` — the direct query over any ticket queryset, the reference
  the rollup is tested against: one statement reads the tickets once into a CTE — only
  rows touched since the period began (`updated_at ≥ start`: every creation, response and
  resolution bumps `updated_at`) or still open — and answers every count, breakdown, trend
  and workload from it: on PostgreSQL with GROUPING SETS and the percentiles in the same
  statement (postgres.py), on SQLite with UNION ALL branches and a second statement for
  percentiles. The reopen rate is one more statement (it reads TicketEvent).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from portal.analytics import postgres, scoped, sql
from portal.analytics.period import Period
from portal.analytics.rollup import REOPEN, RESOLUTION
from portal.lib.replica import read_connection as connection  # replica when usable
from portal.lib.replica import read_transaction
from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, TicketEvent

AGE_BUCKETS = [
    # (label, lower bound in days included, upper bound excluded)
    ("Under 1 day", 0, 1),
    ("1–7 days", 1, 7),
    ("7–30 days", 7, 30),
    ("30–90 days", 30, 90),
    ("90 days or more", 90, None),
]
PERCENTILES = (0.5, 0.9)
TOP_AGENTS = 25

# Breakdowns of the tickets created in the period: dimension → (key column, label column).
BREAKDOWNS = {
    "status": ("status", "status"),
    "priority": ("priority", "priority"),
    "group": ("group_id", "group_name"),
    "category": ("category_id", "category_name"),
    "subcategory": ("subcategory_id", "subcategory_name"),
    "team": ("team_id", "team_name"),
}


@dataclass
class Figures:
    """Everything the analytics page shows, as plain numbers and rows."""

    period: Period
    created: int = 0
    resolved: int = 0
    open: int = 0
    age: list[int] = field(default_factory=list)
    # (dimension, key) → (label, count); keys are text (ids or choice values).
    breakdowns: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    created_by_day: dict[dt.date, int] = field(default_factory=dict)
    resolved_by_day: dict[dt.date, int] = field(default_factory=dict)
    teams: list[dict] = field(default_factory=list)
    agents: list[dict] = field(default_factory=list)
    first_response: dict[float, float | None] = field(default_factory=dict)
    resolution: dict[float, float | None] = field(default_factory=dict)
    resolutions: int = 0
    reopens: int = 0

    @property
    def reopen_rate(self) -> float | None:
        return self.reopens / self.resolutions if self.resolutions else None


def _base(tickets, period: Period, now: dt.datetime, *, names: bool = True):
    """One row per ticket the figures need, with every column they read, as SQL.

    `names=False` leaves out the display names (and their joins): PostgreSQL joins them
    after aggregating, to a few hundred groups instead of every ticket.
    """
    created = Q(created_at__gte=period.start, created_at__lt=period.end)
    resolved = Q(resolved_at__gte=period.start, resolved_at__lt=period.end)
    is_open = Q(status__in=OPEN_STATUSES)
    age = Case(
        *[
            When(created_at__gt=now - dt.timedelta(days=low), then=Value(index - 1))
            for index, (_, low, _high) in enumerate(AGE_BUCKETS)
            if index > 0
        ],
        default=Value(len(AGE_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    rows = (
        tickets.filter(is_open | Q(updated_at__gte=period.start))
        .order_by()
        .annotate(
            c_status=F("status"),
            c_priority=F("priority"),
            c_group_id=F("group_id"),
            c_category_id=F("category_id"),
            c_subcategory_id=F("subcategory_id"),
            c_team_id=F("team_id"),
            c_assignee_id=F("assignee_id"),
            c_unassigned=ExpressionWrapper(Q(assignee__isnull=True), output_field=BooleanField()),
            c_created=ExpressionWrapper(created, output_field=BooleanField()),
            c_resolved=ExpressionWrapper(resolved, output_field=BooleanField()),
            c_open=ExpressionWrapper(is_open, output_field=BooleanField()),
            c_age=age,
            c_created_day=TruncDate("created_at"),
            c_resolved_day=TruncDate("resolved_at"),
            c_frt=Case(When(created, then=sql.Seconds(F("first_response_at"), F("created_at")))),
            c_ttr=Case(When(resolved, then=sql.Seconds(F("resolved_at"), F("created_at")))),
        )
    )
    if names:
        rows = rows.annotate(
            c_group_name=F("group__name"),
            c_category_name=F("category__name"),
            c_subcategory_name=F("subcategory__name"),
            c_team_name=F("team__name"),
            c_assignee_name=F("assignee__full_name"),
            c_assignee_email=F("assignee__email"),
        )
    selected = [name for name in rows.query.annotation_select if name.startswith("c_")]
    query_sql, params = rows.values(*selected).query.sql_with_params()
    # Strip the "c_" prefix: the statements below read `status`, `group_id`, …
    columns = [name[2:] for name in selected]
    return query_sql, params, columns


def _counts_sql() -> str:
    """Every count and breakdown from the CTE `t`, one UNION ALL branch each."""
    true = "TRUE" if sql.is_postgres() else "1"
    branches = [
        f"SELECT 'created', '', '', COUNT(*) FROM t WHERE created = {true}",  # noqa: S608 - names are constants of this module
        f"SELECT 'resolved', '', '', COUNT(*) FROM t WHERE resolved = {true}",  # noqa: S608 - names are constants of this module
        f"SELECT 'age', CAST(age AS TEXT), '', COUNT(*) FROM t WHERE open = {true} GROUP BY age",  # noqa: S608 - names are constants of this module
        f"SELECT 'created_day', CAST(created_day AS TEXT), '', COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
        f"WHERE created = {true} GROUP BY created_day",
        f"SELECT 'resolved_day', CAST(resolved_day AS TEXT), '', COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
        f"WHERE resolved = {true} GROUP BY resolved_day",
    ]
    for name, (key, label) in BREAKDOWNS.items():
        branches.append(
            f"SELECT '{name}', CAST({key} AS TEXT), MAX({label}), COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
            f"WHERE created = {true} GROUP BY {key}"
        )
    for prefix, key, label in (
        ("team", "team_id", "MAX(team_name)"),
        (
            "agent",
            "assignee_id",
            "MAX(COALESCE(NULLIF(assignee_name, ''), assignee_email))",
        ),
    ):
        branches += [
            f"SELECT '{prefix}_open', CAST({key} AS TEXT), {label}, COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
            f"WHERE open = {true} GROUP BY {key}",
            f"SELECT '{prefix}_resolved', CAST({key} AS TEXT), {label}, COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
            f"WHERE resolved = {true} GROUP BY {key}",
        ]
    branches.append(
        f"SELECT 'team_unassigned', CAST(team_id AS TEXT), MAX(team_name), COUNT(*) FROM t "  # noqa: S608 - names are constants of this module
        f"WHERE open = {true} AND assignee_id IS NULL GROUP BY team_id"
    )
    return " UNION ALL ".join(branches)


def _direct(tickets, period: Period, now: dt.datetime):
    """(count rows, {(figure name, fraction): seconds}) for `tickets` by the direct query.

    On PostgreSQL the caller has called `postgres.tune_for_analytics()` in its transaction.
    """
    if sql.is_postgres():
        base_sql, params, columns = _base(tickets, period, now, names=False)
        return postgres.counts_and_percentiles(base_sql, params, columns)
    base_sql, params, columns = _base(tickets, period, now)
    cte = f"WITH t ({', '.join(columns)}) AS ({base_sql}) "
    with connection.cursor() as cursor:
        cursor.execute(cte + _counts_sql(), params)
        rows = cursor.fetchall()
    values = sql.sqlite_percentiles(
        f"base ({', '.join(columns)}) AS ({base_sql})", params, ["frt", "ttr"], PERCENTILES
    )
    names = {"frt": "first_response", "ttr": "resolution"}
    return rows, {(names[column], fraction): v for (column, fraction), v in values.items()}


def compute(tickets, period: Period, *, now: dt.datetime | None = None) -> Figures:
    """All figures for `tickets` (any visible, filtered queryset) over `period`, read from
    the tickets themselves: 3 queries. The page uses `compute_for` (the rollup); this is
    the reference it is tested against, and what scopes the rollup cannot express use."""
    now = now or timezone.now()
    figures = Figures(period=period, age=[0] * len(AGE_BUCKETS))
    with read_transaction():  # on the replica when usable; no savepoint in tests
        if sql.is_postgres():
            postgres.tune_for_analytics()
        rows, percentiles = _direct(tickets, period, now)
        figures.resolutions, figures.reopens = _reopen_counts(tickets, period)
    _fill_counts(figures, rows)
    for (name, fraction), value in percentiles.items():
        getattr(figures, name)[fraction] = value
    return figures


def compute_for(
    user, filters: scoped.Filters, period: Period, *, now: dt.datetime | None = None
) -> Figures:
    """The figures of `user`'s analytics scope (their work tickets) narrowed by `filters`.

    Counts come from the rollup (scoped.rollup_rows) plus, for an agent, the direct count
    of the few tickets assigned to them outside their teams and groups; percentiles and
    the age boundaries from covering indexes of the tickets. On PostgreSQL: 1 statement of
    planner settings, 1 rollup read, 1 name lookup, 1 age-boundary count, 1 percentile
    statement (+2 for an agent's residual tickets).
    """
    now = now or timezone.now()
    figures = Figures(period=period, age=[0] * len(AGE_BUCKETS))
    with read_transaction():
        if sql.is_postgres():
            postgres.tune_for_analytics()
        rows, figures.resolutions, figures.reopens = scoped.rollup_rows(user, filters, period, now)
        if access.reach_of(user).assigned_elsewhere_q() is not None:
            residual = access.worked_tickets(user, part="assigned_elsewhere").filter(
                filters.ticket_q()
            )
            more, _ = _direct(residual, period, now)
            rows = scoped.merge(rows, more)
            resolutions, reopens = _reopen_counts(residual, period)
            figures.resolutions += resolutions
            figures.reopens += reopens
        whole = scoped.work_tickets(user, filters)
        percentiles = scoped.percentiles(whole, period, PERCENTILES)
    _fill_counts(figures, rows)
    for fraction in PERCENTILES:
        figures.first_response[fraction] = percentiles[("frt", fraction)]
        figures.resolution[fraction] = percentiles[("ttr", fraction)]
    return figures


def _fill_counts(figures: Figures, rows) -> None:
    teams: dict[str, dict] = {}
    agents: dict[str, dict] = {}
    for kind, key, label, count in rows:
        if kind == "created":
            figures.created = count
        elif kind == "resolved":
            figures.resolved = count
        elif kind == "age":
            figures.age[int(key)] = count
        elif kind in ("created_day", "resolved_day"):
            day = dt.date.fromisoformat(str(key)[:10])
            getattr(figures, f"{kind.split('_')[0]}_by_day")[day] = count
        elif kind in BREAKDOWNS:
            figures.breakdowns.setdefault(kind, []).append((key or "", label or "", count))
        else:
            owner, measure = kind.split("_", 1)
            table = teams if owner == "team" else agents
            entry = table.setdefault(
                key or "", {"key": key or "", "label": label or "", "open": 0, "resolved": 0,
                            "unassigned": 0},
            )  # fmt: skip
            entry[measure] = count
    figures.open = sum(figures.age)
    figures.teams = sorted(teams.values(), key=lambda r: (-r["open"], -r["resolved"], r["label"]))
    figures.agents = sorted(
        (row for row in agents.values() if row["key"]),
        key=lambda r: (-r["open"], -r["resolved"], r["label"]),
    )[:TOP_AGENTS]


def _reopen_counts(tickets, period: Period) -> tuple[int, int]:
    """(resolutions, reopens) in the period from the history (status events store codes;
    the conditions are the rollup's, so both count the same events)."""
    # A status change bumps the ticket's updated_at, so only tickets touched since the
    # period began can have one in it: that bound keeps the subquery on the index.
    in_scope = tickets.filter(updated_at__gte=period.start)
    result = (
        access.history_of(in_scope)
        .filter(
            kind=TicketEvent.Kind.STATUS,
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .aggregate(
            resolutions=_count(RESOLUTION),
            reopens=_count(REOPEN),
        )
    )
    return result["resolutions"] or 0, result["reopens"] or 0


def _count(condition: Q) -> Count:
    return Count("id", filter=condition)
