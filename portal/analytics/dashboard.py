"""The /dashboard figures per role: counts that each link to the ticket list they count.

Every figure is a condition on `visible_tickets(user)` paired with the ticket list URL
(saved view + filters from portal/tickets/filters.py) that selects exactly the same
tickets; tests open each link and compare. A figure the list cannot express yet has no
link (say so in its hint) rather than a link to something close.

The figures and their conditions are in dashboard_figures.py, the reads that count them
(and how many queries they are) in dashboard_reads.py; this module lays out the page.
"""

from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import Roles, user_roles
from portal.analytics import dashboard_figures as figures
from portal.analytics.dashboard_reads import Reads


def dashboard_context(user, *, compiled_reads: bool = True) -> dict:
    """Everything templates/analytics/dashboard.html shows for `user`. Its reads run
    statements compiled once per shape (`Reads`); `compiled_reads=False` runs the same
    querysets through the ORM (what tests compare with)."""
    roles = user_roles(user)
    base = reverse("ticket-list")
    cutoff, old_before = figures.days(timezone.localdate())
    sections = figures.sections(user, roles, cutoff, old_before, waiting=not compiled_reads)
    specs = [spec for _, group in sections for spec in group]
    breakdown = figures.breakdown_spec(roles)
    reads = Reads(user, roles, cutoff, old_before, specs, compiled_reads=compiled_reads)
    counts = reads.own_counts()
    counts.update(reads.direct_counts())
    grouped = reads.rollup_grouped()
    for spec in specs:
        if spec.rollup is not None:
            counts[spec.key] = sum(row[spec.key] for row in grouped)
    context = {
        "roles": roles,
        "sections": [
            (
                title,
                [
                    figures.Figure(
                        s.key,
                        s.label,
                        counts[s.key],
                        figures.list_url(s.params, base) if s.params is not None else None,
                        s.hint,
                    )
                    for s in group
                ],
            )
            for title, group in sections
        ],  # fmt: skip
        "breakdown": _breakdown_rows(breakdown, grouped, base),
        "members": _member_rows(grouped, base) if roles.is_lead else None,
    }
    context.update(_list_context(user, roles, base))
    context["list_tickets"] = reads.list_tickets()
    return context


def _list_context(user, roles: Roles, base: str | None = None) -> dict:
    """The short list's title and link (its tickets: `dashboard_reads.list_query`)."""
    if roles.is_admin or roles.is_agent:
        params = [("view", "all"), *figures.OPEN_PARAMS, ("sort", "created")]
        if not roles.is_admin:
            params = [("view", "team"), ("sort", "created")]
        return {"list_title": "Oldest open tickets", "list_url": figures.list_url(params, base)}
    params = [("view", "all")] if roles.is_spoc else [("view", "mine")]
    return {"list_title": "Recently updated", "list_url": figures.list_url(params, base)}


def _member_rows(grouped: list[dict], base: str | None = None) -> list[tuple[str, str, int, str]]:
    """(team, member or "Nobody", open count, list URL) in the lead's teams, busiest first."""
    rows = sorted(
        (row for row in grouped if row["_lead"]),
        key=lambda row: (row["team__name"], -row["_lead"], row["assignee__email"] or ""),
    )
    return [
        (
            row["team__name"],
            row["assignee__full_name"] or row["assignee__email"] or "Nobody (unassigned)",
            row["_lead"],
            figures.list_url([("view", "team"), ("team", row["team_id"]),
                              ("assignee", row["assignee__email"] or "none")], base),
        )
        for row in rows
    ]  # fmt: skip


def _breakdown_rows(spec: dict | None, grouped: list[dict], base: str | None = None) -> dict | None:
    if spec is None:
        return None
    merged: dict = {}
    for row in grouped:  # aggregated rows (per team and member for leads), not tickets
        entry = merged.setdefault(row[spec["key"]], {**row, "_breakdown": 0})
        entry["_breakdown"] += row["_breakdown"]
    rows = sorted(
        (row for row in merged.values() if row["_breakdown"]),
        key=lambda row: (-row["_breakdown"], row[spec["name"]] or ""),
    )[:20]
    return {
        "title": spec["title"],
        "rows": [
            (
                row[spec["name"]] or spec["empty"],
                row["_breakdown"],
                figures.list_url(
                    [
                        ("view", spec["view"]),
                        (spec["param"], row[spec["key"]]),
                        *figures.OPEN_PARAMS,
                    ],
                    base,
                )
                if row[spec["key"]]
                else None,
            )
            for row in rows
        ],
    }
