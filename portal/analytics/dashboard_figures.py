"""The /dashboard's figures per role, before counting: each a condition on
`visible_tickets(user)` paired with the ticket list URL that selects the same tickets, and
for open work in a team, group or the organisation the same set as rows of the rollup.
portal/analytics/dashboard.py counts them (dashboard_reads.py) and lays out the page.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Case, F, Q, Value, When
from django.urls import reverse

from portal.accounts.roles import Roles
from portal.analytics.models import TicketCount
from portal.analytics.period import day_start
from portal.catalog.models import Priority
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


def list_url(params: list, base: str | None = None) -> str:
    """The ticket list with `params`; `base`: the list's path when the caller reversed it
    already (a dashboard has some thirty links: reversing each cost a twentieth of it)."""
    return f"{base or reverse('ticket-list')}?{urlencode(params)}"


def specs(user, roles: Roles, today: dt.date) -> list[tuple[str, list[Spec]]]:
    """(section title, figures) for each section this user's roles call for."""
    return sections(user, roles, *days(today))


# The condition of a figure `sections(..., waiting=False)` did not build: nothing, should
# it ever be counted by mistake (a test holds that the page's figures are the ORM's).
UNBUILT = Q(pk__in=[])


def days(today: dt.date) -> tuple[dt.date, dt.datetime]:
    """The cutoff day of "open more than OLD_AFTER_DAYS days", and the start of the next
    (the list's created_to is inclusive: created before the start of the next day)."""
    cutoff = today - dt.timedelta(days=OLD_AFTER_DAYS)
    return cutoff, day_start(cutoff + dt.timedelta(days=1))


def sections(
    user, roles: Roles, cutoff: dt.date, old_before: dt.datetime, *, waiting: bool = True
) -> list[tuple[str, list[Spec]]]:
    """`specs` of the days `days` gives (what the compiled reads take as values).

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
        # The organisation's figures sum the open rows per team, a few hundred (rollup.py).
        opened = Q(measure=M.OPEN_PER_TEAM)
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
                        rollup=_older(Q(), opened=M.OPEN_PER_TEAM),
                    ),
                ],
            )  # fmt: skip
        )
    return sections


def _older(scope: Q, *, opened: str = M.OPEN) -> Case:
    """Open tickets raised on or before the cutoff day, as a signed sum of rollup rows:
    all open ones (`opened`: the open rows, or the open rows per team) minus those raised
    after the cutoff (the rollup read keeps only the last OLD_AFTER_DAYS days of
    open-by-day rows, not two years of them)."""
    return Case(
        When(Q(measure=opened) & scope, then=F("n")),
        When(Q(measure=M.OPEN_BY_DAY) & scope, then=-F("n")),
        default=Value(0),
    )


def breakdown_spec(roles: Roles) -> dict | None:
    """Open work per team (admins, agents) or per group (SPOCs), each row linked."""
    is_open = Q(status__in=OPEN_STATUSES)
    if roles.is_admin or roles.is_agent:
        condition = is_open
        if not roles.is_admin:
            condition &= Q(team_id__in=sorted(roles.agent_team_ids))
        rollup = Q(measure=M.OPEN_PER_TEAM)
        if not roles.is_admin:
            rollup = Q(measure=M.OPEN, team_id__in=sorted(roles.agent_team_ids))
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
