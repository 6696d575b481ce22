"""The /dashboard's reads: the figures of dashboard_figures.py counted, in statements
compiled once per shape (`Reads`), and the short list of tickets.

Queries: one conditional count over the user's own open tickets (raised by or assigned
to them); for admins and SPOCs one count of tickets waiting with nobody able to act (it
depends on who is in which team now, so neither the rollup nor the first count has it);
for people who work tickets, one grouped read of the exact rollup's open-ticket
rows (rollup.py) — every team, group and organisation figure a filtered sum, grouped per
team or group for the breakdown (and member for leads) — and one lookup of those names;
and one short list (recent updates or oldest open).
"""

import datetime as dt

from django.db import router
from django.db.models import Count, Q, QuerySet, Sum, Value

from portal.accounts.models import User
from portal.accounts.roles import Roles
from portal.accounts.selectors import NAME_FIELDS
from portal.analytics import dashboard_figures as figures
from portal.analytics.models import TicketCount
from portal.catalog.models import BusinessUnitGroup, Team
from portal.lib import compiled
from portal.lib.replica import read_connection as connection  # replica when usable
from portal.tickets import access
from portal.tickets.access import visible_tickets
from portal.tickets.models import OPEN_STATUSES, Ticket

M = TicketCount.Measure


class Reads:
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
        specs: list[figures.Spec],
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
            return list(queries(*self.real)[name])

        def build(*values):
            return queries(*self._stand_ins(values))[name]

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


def queries(user, roles: Roles, cutoff: dt.date, old_before: dt.datetime) -> dict:
    """The dashboard's querysets for `user`, each selecting plain rows (`values_list`)."""
    sections = figures.sections(user, roles, cutoff, old_before)
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
    queries["list"] = list_query(user, roles, visible)
    return queries


def _aggregate(queryset, aggregates: dict) -> QuerySet:
    """`queryset.aggregate(**aggregates)` as a queryset of its one row (grouped by a
    constant, which SQL leaves out: one row even when no row matches)."""
    return queryset.order_by().values(_all=Value(1)).annotate(**aggregates).values_list(*aggregates)


def _rollup_layout(roles: Roles, specs: list[figures.Spec]) -> tuple[list[str], list[str]] | None:
    """(grouping columns, sums) of the rollup read, or None when there is none."""
    breakdown = figures.breakdown_spec(roles)
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


def _rollup_query(roles: Roles, specs: list[figures.Spec], cutoff: dt.date) -> QuerySet | None:
    """The rollup's open-ticket rows in the user's teams/groups (or all), grouped per team
    (and member for leads) or per group, with every figure as a filtered sum (one query);
    `Reads.rollup_grouped` adds the names of the teams, groups and members (one more).

    Every rollup condition selects open work in the user's teams or groups or the whole
    organisation: a subset of `visible_tickets(user)`, so the sums equal the direct counts.
    """
    layout = _rollup_layout(roles, specs)
    if layout is None:
        return None
    columns, _ = layout
    recent = Q(measure=M.OPEN_BY_DAY, day__gt=cutoff)
    if roles.is_admin:
        # The organisation's figures read the open rows per team; the open rows themselves
        # only in the admin's own teams (their team's figures and, for leads, members).
        rows = Q(measure=M.OPEN_PER_TEAM) | recent
        if roles.is_agent:
            rows |= Q(measure=M.OPEN, team_id__in=sorted(roles.agent_team_ids))
    else:
        rows = (Q(measure=M.OPEN) | recent) & (
            Q(team_id__in=sorted(roles.agent_team_ids))
            | Q(group_id__in=sorted(roles.spoc_group_ids))
        )
    rows = TicketCount.objects.filter(rows)
    sums = {
        spec.key: Sum("n", filter=spec.rollup) if isinstance(spec.rollup, Q) else Sum(spec.rollup)
        for spec in specs
    }
    breakdown = figures.breakdown_spec(roles)
    if breakdown is not None:
        sums["_breakdown"] = Sum("n", filter=breakdown["rollup"])
    if roles.is_lead:
        sums["_lead"] = Sum("n", filter=Q(measure=M.OPEN, team_id__in=sorted(roles.lead_team_ids)))
    if columns:
        return rows.order_by().values(*columns).annotate(**sums).values_list(*columns, *sums)
    return _aggregate(rows, sums)


def _name_rows(grouped: list[dict]) -> None:
    """Add team__name, group__name, assignee__email and assignee__full_name (one query)."""
    # Ids only: 0 is "none" and the per-team rows' -1 is "someone" (rollup.SOMEONE).
    ids = {
        column: sorted({row[column] for row in grouped if (row.get(column) or 0) > 0})
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


def list_query(user, roles: Roles, visible) -> QuerySet:
    """One short list of tickets: the oldest open work for workers, recent updates otherwise."""
    if roles.is_admin or roles.is_agent:
        scope = Q(status__in=OPEN_STATUSES)
        if not roles.is_admin:
            scope &= Q(team_id__in=sorted(roles.agent_team_ids))
        order = ["id"]
    else:
        scope = Q(group_id__in=sorted(roles.spoc_group_ids)) if roles.is_spoc else Q(requester=user)
        order = ["-updated_at", "-id"]
    return visible.filter(scope).order_by(*order).values_list(*_LIST_COLUMNS)[: figures.LIST_LENGTH]


def _list_ticket(row: tuple, using: str) -> Ticket:
    """A row of `list_query` as the ticket the ORM's select_related made: description
    deferred, its team and its assignee (named) joined."""
    ticket = Ticket.from_db(using, _LIST_OWN, row[: len(_LIST_OWN)])
    team_values = row[len(_LIST_OWN) : len(_LIST_OWN) + len(_LIST_TEAM)]
    team = None if team_values[0] is None else Team.from_db(using, _LIST_TEAM, team_values)
    Ticket._meta.get_field("team").set_cached_value(ticket, team)
    person = row[len(_LIST_OWN) + len(_LIST_TEAM) :]
    named = None if person[0] is None else User.from_db(using, _PERSON, person)
    Ticket._meta.get_field("assignee").set_cached_value(ticket, named)
    return ticket
