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

from django.db import router
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import Roles, user_roles
from portal.accounts.selectors import NAME_FIELDS
from portal.analytics.models import TicketCount
from portal.analytics.period import day_start
from portal.catalog.models import BusinessUnitGroup, Priority, Team
from portal.lib import compiled
from portal.lib.replica import read_connection as connection  # replica when usable
from portal.tickets import access
from portal.tickets.access import visible_tickets
from portal.tickets.models import OPEN_STATUSES, Status, Ticket
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


def list_url(params: list, base: str | None = None) -> str:
    """The ticket list with `params`; `base`: the list's path when the caller reversed it
    already (a dashboard has some thirty links: reversing each cost a twentieth of it)."""
    return f"{base or reverse('ticket-list')}?{urlencode(params)}"


def _specs(user, roles: Roles, today: dt.date) -> list[tuple[str, list[Spec]]]:
    """(section title, figures) for each section this user's roles call for."""
    return _sections(user, roles, *_days(today))


# The condition of a figure `_sections(..., waiting=False)` did not build: nothing, should
# it ever be counted by mistake (a test holds that the page's figures are the ORM's).
UNBUILT = Q(pk__in=[])


def _days(today: dt.date) -> tuple[dt.date, dt.datetime]:
    """The cutoff day of "open more than OLD_AFTER_DAYS days", and the start of the next
    (the list's created_to is inclusive: created before the start of the next day)."""
    cutoff = today - dt.timedelta(days=OLD_AFTER_DAYS)
    return cutoff, day_start(cutoff + dt.timedelta(days=1))


def _sections(
    user, roles: Roles, cutoff: dt.date, old_before: dt.datetime, *, waiting: bool = True
) -> list[tuple[str, list[Spec]]]:
    """`_specs` of the days `_days` gives (what the compiled reads take as values).

    `waiting=False`: the figures only, without building the condition of "waiting with
    nobody able to act" (querysets of its own, a quarter of the page's Python): that
    figure's `condition` is then `UNBUILT`, and only the statements that count it (built
    once per shape) build it."""
    waiting_q = nobody_able_to_act_q if waiting else (lambda: UNBUILT)
    is_open = Q(status__in=OPEN_STATUSES)
    old = Q(created_at__lt=old_before)
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
                        Q(group_id__in=group_ids) & waiting_q(),
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
                        waiting_q(),
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


def dashboard_context(user, *, compiled_reads: bool = True) -> dict:
    """Everything templates/analytics/dashboard.html shows for `user`. Its reads run
    statements compiled once per shape (`_Reads`); `compiled_reads=False` runs the same
    querysets through the ORM (what tests compare with)."""
    roles = user_roles(user)
    base = reverse("ticket-list")
    cutoff, old_before = _days(timezone.localdate())
    sections = _sections(user, roles, cutoff, old_before, waiting=not compiled_reads)
    specs = [spec for _, group in sections for spec in group]
    breakdown = _breakdown_spec(roles)
    reads = _Reads(user, roles, cutoff, old_before, specs, compiled_reads=compiled_reads)
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
                    Figure(
                        s.key,
                        s.label,
                        counts[s.key],
                        list_url(s.params, base) if s.params is not None else None,
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


class _Reads:
    """The dashboard's reads of one person, each a statement compiled once per shape.

    Building and compiling the dashboard's querysets (a conditional count, the rollup's
    filtered sums, a count of tickets nobody can act on, a short list) cost more than half
    of the page's Python on every request (docs/benchmarks.md). The statements differ
    between people only in values: the person's id, team, group and led team ids, and the
    day the "open more than a week" figures start from. So each is built by the ORM once
    per *shape* (role flags and how many teams, groups and led teams) and process, for a
    stand-in person of the same roles (`access.stand_in_user`: the access rules stay the
    access layer's) with stand-in values, and run with this person's
    (portal/lib/compiled.py). Nothing of a request is kept.
    """

    def __init__(
        self,
        user,
        roles: Roles,
        cutoff: dt.date,
        old_before: dt.datetime,
        specs: list[Spec],
        *,
        compiled_reads: bool,
    ) -> None:
        self.compiled_reads = compiled_reads
        agent, spoc, lead = (
            sorted(ids) for ids in (roles.agent_team_ids, roles.spoc_group_ids, roles.lead_team_ids)
        )
        self.shape = (roles.is_admin, len(agent), len(spoc), len(lead))
        self.values = [user.pk, *agent, *spoc, *lead, cutoff, old_before]
        self.real = (user, roles, cutoff, old_before)
        self.roles, self.specs = roles, specs

    def _stand_ins(self, values: tuple) -> tuple:
        is_admin, agent, spoc, lead = self.shape
        ids = list(values[1 : 1 + agent + spoc + lead])
        roles = Roles(
            is_admin=is_admin,
            agent_team_ids=frozenset(ids[:agent]),
            spoc_group_ids=frozenset(ids[agent : agent + spoc]),
            lead_team_ids=frozenset(ids[agent + spoc :]),
        )
        return (access.stand_in_user(values[0], roles), roles, values[-2], values[-1])

    def _rows(self, name: str, model) -> list[tuple]:
        if not self.compiled_reads:
            return list(_queries(*self.real)[name])

        def build(*values):
            return _queries(*self._stand_ins(values))[name]

        return compiled.rows(
            f"dashboard: {name} {self.shape}",
            build,
            self.values,
            using=router.db_for_read(model),
            # Its values are the person's ids (read as the access layer's rule for their
            # roles says) and two days the code computes: no filter of a request.
            may_be_unused=range(len(self.values)),
            shaped=True,
        )

    def own_counts(self) -> dict[str, int]:
        """Figures about the user's own tickets (raised by or assigned to them), one query."""
        keys = [spec.key for spec in self.specs if spec.rollup is None and not spec.direct]
        if not keys:
            return {}
        return dict(zip(keys, self._rows("own", Ticket)[0], strict=True))

    def direct_counts(self) -> dict[str, int]:
        return {
            spec.key: self._rows(f"direct {spec.key}", Ticket)[0][0]
            for spec in self.specs
            if spec.direct
        }

    def rollup_grouped(self) -> list[dict]:
        """`_rollup_query`'s rows as dicts, none and zero told apart, with their names."""
        names = _rollup_layout(self.roles, [s for s in self.specs if s.rollup is not None])
        if names is None:
            return []
        grouped = [dict(zip(names[0] + names[1], row, strict=True))
                   for row in self._rows("rollup", TicketCount)]  # fmt: skip
        for row in grouped:
            for key in names[1]:
                row[key] = row[key] or 0
            for column in ("team_id", "group_id", "assignee_id"):
                if column in row:
                    row[column] = row[column] or None  # the rollup's 0 is "none"
        _name_rows(grouped)
        return grouped

    def list_tickets(self) -> list[Ticket]:
        using = router.db_for_read(Ticket)
        return [_list_ticket(row, using) for row in self._rows("list", Ticket)]


def _queries(user, roles: Roles, cutoff: dt.date, old_before: dt.datetime) -> dict:
    """The dashboard's querysets for `user`, each selecting plain rows (`values_list`)."""
    sections = _sections(user, roles, cutoff, old_before)
    specs = [spec for _, group in sections for spec in group]
    visible = visible_tickets(user)
    queries = {}
    own = [s for s in specs if s.rollup is None and not s.direct]
    if own:
        # Each such condition implies "raised by or assigned to me", so the scan is bounded
        # to those of the user's tickets that are open (requester and assignee indexes).
        mine = Q(requester=user) | Q(assignee=user)
        queries["own"] = _aggregate(
            visible.filter(mine, status__in=OPEN_STATUSES),
            {spec.key: Count("id", filter=spec.condition) for spec in own},
        )
    for spec in specs:
        if spec.direct:
            queries[f"direct {spec.key}"] = _aggregate(
                visible.filter(spec.condition), {"n": Count("*")}
            )
    rollup = _rollup_query(roles, [s for s in specs if s.rollup is not None], cutoff)
    if rollup is not None:
        queries["rollup"] = rollup
    queries["list"] = _list_query(user, roles, visible)
    return queries


def _aggregate(queryset, aggregates: dict) -> QuerySet:
    """`queryset.aggregate(**aggregates)` as a queryset of its one row (grouped by a
    constant, which SQL leaves out: one row even when no row matches)."""
    return queryset.order_by().values(_all=Value(1)).annotate(**aggregates).values_list(*aggregates)


def _rollup_layout(roles: Roles, specs: list[Spec]) -> tuple[list[str], list[str]] | None:
    """(grouping columns, sums) of the rollup read, or None when there is none."""
    breakdown = _breakdown_spec(roles)
    if not specs and breakdown is None:
        return None
    columns, sums = [], [spec.key for spec in specs]
    if breakdown is not None:
        sums.append("_breakdown")
        columns.append(breakdown["key"])
    if roles.is_lead:
        sums.append("_lead")
        columns += ["team_id", "assignee_id"]
    return list(dict.fromkeys(columns)), sums


def _rollup_query(roles: Roles, specs: list[Spec], cutoff: dt.date) -> QuerySet | None:
    """The rollup's open-ticket rows in the user's teams/groups (or all), grouped per team
    (and member for leads) or per group, with every figure as a filtered sum (one query);
    `_Reads.rollup_grouped` adds the names of the teams, groups and members (one more).

    Every rollup condition selects open work in the user's teams or groups or the whole
    organisation: a subset of `visible_tickets(user)`, so the sums equal the direct counts.
    """
    layout = _rollup_layout(roles, specs)
    if layout is None:
        return None
    columns, _ = layout
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
    breakdown = _breakdown_spec(roles)
    if breakdown is not None:
        sums["_breakdown"] = Sum("n", filter=breakdown["rollup"])
    if roles.is_lead:
        sums["_lead"] = Sum("n", filter=Q(measure=M.OPEN, team_id__in=sorted(roles.lead_team_ids)))
    if columns:
        return rows.order_by().values(*columns).annotate(**sums).values_list(*columns, *sums)
    return _aggregate(rows, sums)


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


# The short list's columns: the ticket's but its description (the list shows none), its
# team's (the name is shown) and its assignee named (accounts.selectors.naming).
_LIST_OWN = [f.attname for f in Ticket._meta.concrete_fields if f.attname != "description"]
_LIST_TEAM = [f.attname for f in Team._meta.concrete_fields]
_PERSON = [f.attname for f in User._meta.concrete_fields if f.attname in NAME_FIELDS]
_LIST_COLUMNS = [
    *_LIST_OWN,
    *(f"team__{name}" for name in _LIST_TEAM),
    *(f"assignee__{name}" for name in _PERSON),
]


def _list_query(user, roles: Roles, visible) -> QuerySet:
    """One short list of tickets: the oldest open work for workers, recent updates otherwise."""
    if roles.is_admin or roles.is_agent:
        scope = Q(status__in=OPEN_STATUSES)
        if not roles.is_admin:
            scope &= Q(team_id__in=sorted(roles.agent_team_ids))
        order = ["id"]
    else:
        scope = Q(group_id__in=sorted(roles.spoc_group_ids)) if roles.is_spoc else Q(requester=user)
        order = ["-updated_at", "-id"]
    return visible.filter(scope).order_by(*order).values_list(*_LIST_COLUMNS)[:LIST_LENGTH]


def _list_ticket(row: tuple, using: str) -> Ticket:
    """A row of `_list_query` as the ticket the ORM's select_related made: description
    deferred, its team and its assignee (named) joined."""
    ticket = Ticket.from_db(using, _LIST_OWN, row[: len(_LIST_OWN)])
    team_values = row[len(_LIST_OWN) : len(_LIST_OWN) + len(_LIST_TEAM)]
    team = None if team_values[0] is None else Team.from_db(using, _LIST_TEAM, team_values)
    Ticket._meta.get_field("team").set_cached_value(ticket, team)
    person = row[len(_LIST_OWN) + len(_LIST_TEAM) :]
    named = None if person[0] is None else User.from_db(using, _PERSON, person)
    Ticket._meta.get_field("assignee").set_cached_value(ticket, named)
    return ticket


def _list_context(user, roles: Roles, base: str | None = None) -> dict:
    """The short list's title and link (its tickets: `_list_query`)."""
    if roles.is_admin or roles.is_agent:
        params = [("view", "all"), *OPEN_PARAMS, ("sort", "created")]
        if not roles.is_admin:
            params = [("view", "team"), ("sort", "created")]
        return {"list_title": "Oldest open tickets", "list_url": list_url(params, base)}
    params = [("view", "all")] if roles.is_spoc else [("view", "mine")]
    return {"list_title": "Recently updated", "list_url": list_url(params, base)}


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
            list_url([("view", "team"), ("team", row["team_id"]),
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
                list_url(
                    [("view", spec["view"]), (spec["param"], row[spec["key"]]), *OPEN_PARAMS], base
                )
                if row[spec["key"]]
                else None,
            )
            for row in rows
        ],
    }
