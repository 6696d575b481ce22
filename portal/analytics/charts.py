"""Chart data: one definition per chart, shared by the SVG, its table and its CSV.

A `Chart` is a small table (a label column and one or more series of numbers). The page
draws it (svg.py), prints it as an accessible table beside the drawing and offers it as
CSV at /analytics/<key>.csv with the same parameters, so the three can never disagree.
Rows are built from the aggregated figures (a few dozen rows), never from tickets.
"""

import datetime as dt
from dataclasses import dataclass, field

from portal.analytics.figures import AGE_BUCKETS, Figures
from portal.catalog.models import Priority
from portal.tickets.models import Status

TOP_ROWS = 15
WEEKLY_AFTER_DAYS = 92


@dataclass
class Chart:
    key: str
    title: str
    description: str
    label: str  # heading of the label column
    series: list[str]  # heading of each number column
    rows: list[tuple[str, list[int]]] = field(default_factory=list)
    kind: str = "bars"  # "bars" (horizontal) or "lines" (over time)
    axis: str = "Tickets"

    @property
    def total(self) -> list[int]:
        return [sum(values[i] for _, values in self.rows) for i in range(len(self.series))]


def _top(rows: list[tuple[str, int]], other_label: str = "All others") -> list:
    """The largest TOP_ROWS rows, the rest summed into one (so the total still adds up)."""
    rows = sorted(rows, key=lambda r: (-r[1], r[0]))
    kept = [(label, [count]) for label, count in rows[:TOP_ROWS]]
    rest = sum(count for _, count in rows[TOP_ROWS:])
    if rest:
        kept.append((f"{other_label} ({len(rows) - TOP_ROWS})", [rest]))
    return kept


def _breakdown(figures: Figures, name: str, empty: str) -> list:
    return _top([(label or empty, n) for _, label, n in figures.breakdowns.get(name, [])])


def trend_rows(figures: Figures) -> tuple[list, str]:
    """Created and resolved per day, or per week (starting Monday) for long periods."""
    period = figures.period
    weekly = period.days > WEEKLY_AFTER_DAYS
    buckets: dict[dt.date, list[int]] = {}
    day = period.first_day
    while day <= period.last_day:
        bucket = day - dt.timedelta(days=day.weekday()) if weekly else day
        buckets.setdefault(max(bucket, period.first_day), [0, 0])
        day += dt.timedelta(days=1)

    def add(day: dt.date, index: int, count: int) -> None:
        bucket = day - dt.timedelta(days=day.weekday()) if weekly else day
        bucket = max(bucket, period.first_day)
        if bucket in buckets:
            buckets[bucket][index] += count

    for day, count in figures.created_by_day.items():
        add(day, 0, count)
    for day, count in figures.resolved_by_day.items():
        add(day, 1, count)
    return [(day.isoformat(), values) for day, values in buckets.items()], (
        "Week starting" if weekly else "Day"
    )


def build(figures: Figures) -> dict[str, Chart]:
    """Every ticket chart for these figures, keyed by the name used in its CSV address."""
    trend, unit = trend_rows(figures)
    counts = {name: dict((key, n) for key, _, n in figures.breakdowns.get(name, []))
              for name in ("status", "priority")}  # fmt: skip
    charts = [
        Chart(
            "trend", "Created and resolved over time",
            f"Tickets created and resolved per {unit.split()[0].lower()} in the period.",
            unit, ["Created", "Resolved"], trend, kind="lines",
        ),
        Chart(
            "status", "Created in the period, by current status",
            "Where the tickets raised in the period stand now.", "Status", ["Tickets"],
            [(label, [counts["status"].get(value, 0)]) for value, label in Status.choices],
        ),
        Chart(
            "priority", "Created in the period, by priority", "", "Priority", ["Tickets"],
            [(label, [counts["priority"].get(value, 0)]) for value, label in Priority.choices],
        ),
        Chart("group", "Created in the period, by business unit group", "", "Group",
              ["Tickets"], _breakdown(figures, "group", "(none)")),
        Chart("category", "Created in the period, by category", "", "Category", ["Tickets"],
              _breakdown(figures, "category", "(none)")),
        Chart("subcategory", "Created in the period, by subcategory", "", "Subcategory",
              ["Tickets"], _breakdown(figures, "subcategory", "No subcategory")),
        Chart("team", "Created in the period, by team", "", "Team", ["Tickets"],
              _breakdown(figures, "team", "No team (unmapped)")),
        Chart(
            "age", "Open backlog by age", "Open tickets now, by how long ago they were raised.",
            "Age", ["Open tickets"],
            [(label, [figures.age[i]]) for i, (label, _, _) in enumerate(AGE_BUCKETS)],
        ),
        Chart(
            "teams", "Workload per team",
            "Open tickets now (and how many have nobody assigned), resolved in the period.",
            "Team", ["Open", "Open, unassigned", "Resolved"],
            [(row["label"] or "No team (unmapped)",
              [row["open"], row["unassigned"], row["resolved"]]) for row in figures.teams],
        ),
        Chart(
            "agents", "Workload per agent",
            f"Open tickets assigned now and resolved in the period (top {len(figures.agents)}).",
            "Agent", ["Open", "Resolved"],
            [(row["label"], [row["open"], row["resolved"]]) for row in figures.agents],
        ),
    ]  # fmt: skip
    return {chart.key: chart for chart in charts}


def usage_chart(rows: list[tuple[str, int]], days: int) -> Chart:
    """Page views per section over the last `days` days (admins only)."""
    return Chart(
        "usage",
        f"Page views per section, last {days} days",
        "Counted per section and day; nobody's identity is recorded.",
        "Section",
        ["Page views"],
        [(section, [count]) for section, count in rows],
        axis="Page views",
    )


CHART_KEYS = (
    "trend", "status", "priority", "group", "category", "subcategory", "team", "age", "teams",
    "agents", "usage",
)  # fmt: skip
