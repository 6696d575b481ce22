"""The /dashboard figures per role: counts that each link to the ticket list they count.

Every figure is a condition on `visible_tickets(user)` paired with the ticket list URL
(saved view + filters from portal/tickets/filters.py) that selects exactly the same
tickets; tests open each link and compare. A figure the list cannot express yet has no
link (say so in its hint) rather than a link to something close.

Queries: one conditional count over the user's own open tickets (raised by or assigned
to them); for admins and SPOCs one count of tickets waiting with nobody able to act (it
depends on who is in which team now, so neither the rollup nor the first count has it);
for people who work tickets, one grouped read of the exact rollup's open-ticket
rows (rollup.py) — every team, group and organisation figure a filtered sum, grouped per
team or group for the breakdown (and member for leads) — and one lookup of those names;
and one short list (recent updates or oldest open).
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import Roles, user_roles
from portal.analytics.models import TicketCount
from portal.analytics.period import day_start
from portal.catalog.models import BusinessUnitGroup, Priority, Team
from portal.lib.replica import read_connection as connection  # replica when usable
from portal.tickets.access import visible_tickets
from portal.tickets.models import OPEN_STATUSES, Status
from portal.tickets.routing import nobody_able_to_act_q

M = TicketCount.Measure
WAITING_LABEL = "Waiting with nobody able to act"
WAITING_HINT = (
    "Open, and no team member holds or can take them: no team, a team with nobody in it, or "
    "held by a deactivated account. The SPOC or the admins on triage duty were told; zero "
    "in a healthy organisation."
)
OLD_AFTER_DAYS = 7
LIST_LENGTH = 5
OPEN_PARAMS = [("status", value) for value in OPEN_STATUSES]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    count: int
    url: str | None
    hint: str = ""


@dataclass(frozen=True)
class Spec:
    """A figure before counting: its condition and the list parameters showing the same.

    `rollup` is the same set as a condition on the rollup's rows (TicketCount), for figures
    about open work in a team, group or the whole organisation; figures about the user's
    own tickets (raised by or assigned to them) are counted from the tickets.
    """

    key: str
    label: str
    condition: Q
    params: list | None
    hint: str = ""
    rollup: Q | Case | None = None  # rows to sum (Q), or a signed sum of `n` (Case)
    # Counted on its own from the tickets: a condition on live master data (who is in
    # which team) that neither the rollup nor "my own tickets" can answer.
    direct: bool = False


def list_url(params: list) -> str:
    return f"{reverse('ticket-list')}?{urlencode(params)}"


def _specs(user, roles: Roles, today: dt.date) -> list[tuple[str, list[Spec]]]:
    """(section title, figures) for each section this user's roles call for."""
    is_open = Q(status__in=OPEN_STATUSES)
    cutoff = today - dt.timedelta(days=OLD_AFTER_DAYS)
    # The list's created_to is inclusive: created before the start of the next day.
    old = Q(created_at__lt=day_start(cutoff + dt.timedelta(days=1)))
    old_hint = f"Raised on or before {cutoff:%d %b %Y}."
    sections = [
        (
            "My requests",
            [
                Spec("mine_open", "My open tickets", Q(requester=user) & is_open,
                     [("view", "mine"), *OPEN_PARAMS]),
                Spec("mine_waiting", "Waiting for my reply",
                     Q(requester=user, status=Status.ON_HOLD),
                     [("view", "mine"), ("status", Status.ON_HOLD)], "On hold until you answer."),
            ],
        )
    ]  # fmt: skip
    if roles.works_tickets:
        sections.append(
            (
                "My work",
                [
                    Spec(
                        "assigned_open",
                        "Assigned to me, open",
                        Q(assignee=user) & is_open,
                        [("view", "assigned"), *OPEN_PARAMS],
                    )
                ],
            )  # fmt: skip
        )
    opened = Q(measure=M.OPEN)  # rollup rows
    if roles.is_agent:
        team_ids = sorted(roles.agent_team_ids)
        teams = Q(team_id__in=team_ids) & is_open
        sections.append(
            (
                "My team's queue",
                [
                    Spec(
                        "team_open",
                        "Open in my teams",
                        teams,
                        [("view", "team")],
                        rollup=opened & Q(team_id__in=team_ids),
                    ),
                    Spec(
                        "team_unassigned",
                        "Unassigned in my teams",
                        teams & Q(assignee__isnull=True),
                        [("view", "team"), ("assignee", "none")],
                        rollup=opened & Q(team_id__in=team_ids, assignee_id=0),
                    ),
                    Spec(
                        "team_old",
                        f"Open more than {OLD_AFTER_DAYS} days",
                        teams & old,
                        [("view", "team"), ("created_to", cutoff.isoformat())],
                        old_hint,
                        rollup=_older(Q(team_id__in=team_ids)),
                    ),
                ],
            )  # fmt: skip
        )
    if roles.is_spoc and not roles.is_admin:
        group_ids = sorted(roles.spoc_group_ids)
        groups = Q(group_id__in=group_ids) & is_open
        sections.append(
            (
                "My groups",
                [
                    Spec(
                        "groups_unassigned",
                        "Unassigned in my groups",
                        groups & Q(assignee__isnull=True),
                        [("view", "unassigned")],
                        rollup=opened & Q(group_id__in=group_ids, assignee_id=0),
                    ),
                    Spec(
                        "groups_nobody",
                        WAITING_LABEL,
                        Q(group_id__in=group_ids) & nobody_able_to_act_q(),
                        [("view", "waiting")],
                        WAITING_HINT,
                        direct=True,
                    ),
                    Spec(
                        "groups_unmapped",
                        "No team (unmapped)",
                        groups & Q(team__isnull=True),
                        # `team=none` is the list's "no team" filter; one group narrows it
                        # to exactly what is counted here.
                        [
                            ("view", "all"),
                            ("team", "none"),
                            *OPEN_PARAMS,
                            *([("group", group_ids[0])] if len(group_ids) == 1 else []),
                        ],
                        "No classification mapping: waiting for you to route it.",
                        rollup=opened & Q(group_id__in=group_ids, team_id=0),
                    ),
                ],
            )  # fmt: skip
        )
    if roles.is_admin:
        sections.append(
            (
                "Whole organisation",
                [
                    Spec(
                        "org_open", "Open", is_open, [("view", "all"), *OPEN_PARAMS], rollup=opened
                    ),
                    Spec(
                        "org_unassigned",
                        "Open, unassigned",
                        is_open & Q(assignee__isnull=True),
                        [("view", "unassigned")],
                        rollup=opened & Q(assignee_id=0),
                    ),
                    Spec(
                        "org_nobody",
                        WAITING_LABEL,
                        nobody_able_to_act_q(),
                        [("view", "waiting")],
                        WAITING_HINT,
                        direct=True,
                    ),
                    Spec(
                        "org_new",
                        "New, not started",
                        Q(status=Status.NEW),
                        [("view", "all"), ("status", Status.NEW)],
                        rollup=opened & Q(status=Status.NEW),
                    ),
                    Spec(
                        "org_urgent",
                        "Urgent and open",
                        is_open & Q(priority=Priority.URGENT),
                        [("view", "all"), ("priority", Priority.URGENT), *OPEN_PARAMS],
                        rollup=opened & Q(priority=Priority.URGENT),
                    ),
                    Spec(
                        "org_old",
                        f"Open more than {OLD_AFTER_DAYS} days",
                        is_open & old,
                        [("view", "all"), *OPEN_PARAMS, ("created_to", cutoff.isoformat())],
                        old_hint,
                        rollup=_older(Q()),
                    ),
                ],
            )  # fmt: skip
        )
    return sections


def _older(scope: Q) -> Case:
    """Open tickets raised on or before the cutoff day, as a signed sum of rollup rows:
    all open ones minus those raised after the cutoff (the rollup read keeps only the
    last OLD_AFTER_DAYS days of open-by-day rows, not two years of them)."""
    return Case(
        When(Q(measure=M.OPEN) & scope, then=F("n")),
        When(Q(measure=M.OPEN_BY_DAY) & scope, then=-F("n")),
        default=Value(0),
    )


def dashboard_context(user) -> dict:
    """Everything templates/analytics/dashboard.html shows for `user`."""
    roles = user_roles(user)
    today = timezone.localdate()
    sections = _specs(user, roles, today)
    specs = [spec for _, group in sections for spec in group]
    visible = visible_tickets(user)
    breakdown = _breakdown_spec(roles)
    counts = _own_counts(user, visible, [s for s in specs if s.rollup is None and not s.direct])
    for spec in specs:
        if spec.direct:
            counts[spec.key] = visible.filter(spec.condition).count()
    grouped = _rollup_grouped(roles, [s for s in specs if s.rollup is not None], breakdown, today)
    for spec in specs:
        if spec.rollup is not None:
            counts[spec.key] = sum(row[spec.key] for row in grouped)
    context = {
        "roles": roles,
        "sections": [
            (
                title,
                [
                    Figure(
                        s.key,
                        s.label,
                        counts[s.key],
                        list_url(s.params) if s.params is not None else None,
                        s.hint,
                    )
                    for s in group
                ],
            )
            for title, group in sections
        ],  # fmt: skip
        "breakdown": _breakdown_rows(breakdown, grouped),
        "members": _member_rows(grouped) if roles.is_lead else None,
    }
    context.update(_lists(user, roles, visible))
    return context


def _own_counts(user, visible, specs: list[Spec]) -> dict[str, int]:
    """Figures about the user's own tickets (raised by or assigned to them), one query.

    Each such condition implies "raised by or assigned to me", so the scan is bounded to
    those of the user's tickets that are open (requester and assignee indexes).
    """
    if not specs:
        return {}
    mine = Q(requester=user) | Q(assignee=user)
    return visible.filter(mine, status__in=OPEN_STATUSES).aggregate(
        **{spec.key: Count("id", filter=spec.condition) for spec in specs}
    )


def _rollup_grouped(roles: Roles, specs: list[Spec], breakdown, today: dt.date) -> list[dict]:
    """The rollup's open-ticket rows in the user's teams/groups (or all), grouped per team
    (and member for leads) or per group, with every figure as a filtered sum (one query),
    and the names of the teams, groups and members (one more).

    Every rollup condition selects open work in the user's teams or groups or the whole
    organisation: a subset of `visible_tickets(user)`, so the sums equal the direct counts.
    """
    if not specs and breakdown is None:
        return []
    cutoff = today - dt.timedelta(days=OLD_AFTER_DAYS)
    rows = TicketCount.objects.filter(Q(measure=M.OPEN) | Q(measure=M.OPEN_BY_DAY, day__gt=cutoff))
    if not roles.is_admin:
        rows = rows.filter(
            Q(team_id__in=sorted(roles.agent_team_ids))
            | Q(group_id__in=sorted(roles.spoc_group_ids))
        )
    sums = {
        spec.key: Sum("n", filter=spec.rollup) if isinstance(spec.rollup, Q) else Sum(spec.rollup)
        for spec in specs
    }
    columns = []
    if breakdown is not None:
        sums["_breakdown"] = Sum("n", filter=breakdown["rollup"])
        columns.append(breakdown["key"])
    if roles.is_lead:
        sums["_lead"] = Sum("n", filter=Q(measure=M.OPEN, team_id__in=sorted(roles.lead_team_ids)))
        columns += ["team_id", "assignee_id"]
    if columns:
        grouped = list(rows.order_by().values(*dict.fromkeys(columns)).annotate(**sums))
    else:
        grouped = [rows.aggregate(**sums)]
    for row in grouped:
        for key in sums:
            row[key] = row[key] or 0
        for column in ("team_id", "group_id", "assignee_id"):
            if column in row:
                row[column] = row[column] or None  # the rollup's 0 is "none"
    _name_rows(grouped)
    return grouped


def _name_rows(grouped: list[dict]) -> None:
    """Add team__name, group__name, assignee__email and assignee__full_name (one query)."""
    ids = {
        column: sorted({row[column] for row in grouped if row.get(column)})
        for column in ("team_id", "group_id", "assignee_id")
    }
    branches, params = [], []
    for column, model, fields in (
        ("team_id", Team, "name, ''"),
        ("group_id", BusinessUnitGroup, "name, ''"),
        ("assignee_id", User, "email, full_name"),
    ):
        if ids[column]:
            table = connection.ops.quote_name(model._meta.db_table)
            marks = ", ".join(["%s"] * len(ids[column]))
            branches.append(f"SELECT %s, id, {fields} FROM {table} WHERE id IN ({marks})")  # noqa: S608 - names are constants
            params += [column, *ids[column]]
    names: dict = {}
    if branches:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(branches), params)
            names = {(column, pk): (a, b) for column, pk, a, b in cursor.fetchall()}
    for row in grouped:
        if "team_id" in row:
            row["team__name"] = names.get(("team_id", row["team_id"]), ("", ""))[0] or None
        if "group_id" in row:
            row["group__name"] = names.get(("group_id", row["group_id"]), ("", ""))[0] or None
        if "assignee_id" in row:
            email, full_name = names.get(("assignee_id", row["assignee_id"]), (None, None))
            row["assignee__email"], row["assignee__full_name"] = email, full_name


def _lists(user, roles: Roles, visible) -> dict:
    """One short list of tickets: the oldest open work for workers, recent updates otherwise."""
    related = ("team", "assignee")
    if roles.is_admin or roles.is_agent:
        scope = Q(status__in=OPEN_STATUSES)
        params = [("view", "all"), *OPEN_PARAMS, ("sort", "created")]
        if not roles.is_admin:
            scope &= Q(team_id__in=sorted(roles.agent_team_ids))
            params = [("view", "team"), ("sort", "created")]
        tickets = (
            visible.filter(scope).select_related(*related).defer("description").order_by("id")
        )[:LIST_LENGTH]
        return {"list_title": "Oldest open tickets", "list_tickets": list(tickets),
                "list_url": list_url(params)}  # fmt: skip
    if roles.is_spoc:
        scope = Q(group_id__in=sorted(roles.spoc_group_ids))
        params = [("view", "all")]
    else:
        scope, params = Q(requester=user), [("view", "mine")]
    tickets = (visible.filter(scope).select_related(*related).defer("description")).order_by(
        "-updated_at", "-id"
    )
    return {"list_title": "Recently updated", "list_tickets": list(tickets[:LIST_LENGTH]),
            "list_url": list_url(params)}  # fmt: skip


def _breakdown_spec(roles: Roles) -> dict | None:
    """Open work per team (admins, agents) or per group (SPOCs), each row linked."""
    is_open = Q(status__in=OPEN_STATUSES)
    if roles.is_admin or roles.is_agent:
        condition = is_open
        if not roles.is_admin:
            condition &= Q(team_id__in=sorted(roles.agent_team_ids))
        rollup = Q(measure=M.OPEN)
        if not roles.is_admin:
            rollup &= Q(team_id__in=sorted(roles.agent_team_ids))
        return {
            "title": "Open tickets per team", "key": "team_id", "name": "team__name",
            "condition": condition, "view": "all" if roles.is_admin else "team",
            "param": "team", "empty": "No team (unmapped)", "rollup": rollup,
        }  # fmt: skip
    if roles.is_spoc:
        return {
            "title": "Open tickets per group", "key": "group_id", "name": "group__name",
            "condition": is_open & Q(group_id__in=sorted(roles.spoc_group_ids)),
            "view": "all", "param": "group", "empty": "",
            "rollup": Q(measure=M.OPEN, group_id__in=sorted(roles.spoc_group_ids)),
        }  # fmt: skip
    return None


def _member_rows(grouped: list[dict]) -> list[tuple[str, str, int, str]]:
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
            list_url([("view", "team"), ("team", row["team_id"]),
                      ("assignee", row["assignee__email"] or "none")]),
        )
        for row in rows
    ]  # fmt: skip


def _breakdown_rows(spec: dict | None, grouped: list[dict]) -> dict | None:
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
                list_url([("view", spec["view"]), (spec["param"], row[spec["key"]]), *OPEN_PARAMS])
                if row[spec["key"]]
                else None,
            )
            for row in rows
        ],
    }
