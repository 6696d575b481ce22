"""The /dashboard figures per role: counts that each link to the ticket list they count.

Every figure is a condition on `visible_tickets(user)` paired with the ticket list URL
(saved view + filters from portal/tickets/filters.py) that selects exactly the same
tickets; tests open each link and compare. A figure the list cannot express yet has no
link (say so in its hint) rather than a link to something close.

Queries: one conditional-count aggregate for all of the user's figures, one short list
(recent updates or oldest open), and at most one breakdown (per group or per team).
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import Roles, user_roles
from portal.analytics.period import day_start
from portal.catalog.models import Priority
from portal.tickets.access import visible_tickets
from portal.tickets.models import OPEN_STATUSES, Status

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
    """A figure before counting: its condition and the list parameters showing the same."""

    key: str
    label: str
    condition: Q
    params: list | None
    hint: str = ""


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
    if roles.is_agent:
        teams = Q(team_id__in=sorted(roles.agent_team_ids)) & is_open
        sections.append(
            (
                "My team's queue",
                [
                    Spec("team_open", "Open in my teams", teams, [("view", "team")]),
                    Spec(
                        "team_unassigned",
                        "Unassigned in my teams",
                        teams & Q(assignee__isnull=True),
                        [("view", "team"), ("assignee", "none")],
                    ),
                    Spec(
                        "team_old",
                        f"Open more than {OLD_AFTER_DAYS} days",
                        teams & old,
                        [("view", "team"), ("created_to", cutoff.isoformat())],
                        old_hint,
                    ),
                ],
            )  # fmt: skip
        )
    if roles.is_spoc and not roles.is_admin:
        groups = Q(group_id__in=sorted(roles.spoc_group_ids)) & is_open
        sections.append(
            (
                "My groups",
                [
                    Spec(
                        "groups_unassigned",
                        "Unassigned in my groups",
                        groups & Q(assignee__isnull=True),
                        [("view", "unassigned")],
                    ),
                    Spec(
                        "groups_unmapped",
                        "No team (unmapped)",
                        groups & Q(team__isnull=True),
                        None,
                        "No classification mapping: routed to nobody. "
                        "The ticket list cannot filter on “no team” yet.",
                    ),
                ],
            )  # fmt: skip
        )
    if roles.is_admin:
        sections.append(
            (
                "Whole organisation",
                [
                    Spec("org_open", "Open", is_open, [("view", "all"), *OPEN_PARAMS]),
                    Spec(
                        "org_unassigned",
                        "Open, unassigned",
                        is_open & Q(assignee__isnull=True),
                        [("view", "unassigned")],
                    ),
                    Spec(
                        "org_new",
                        "New, not started",
                        Q(status=Status.NEW),
                        [("view", "all"), ("status", Status.NEW)],
                    ),
                    Spec(
                        "org_urgent",
                        "Urgent and open",
                        is_open & Q(priority=Priority.URGENT),
                        [("view", "all"), ("priority", Priority.URGENT), *OPEN_PARAMS],
                    ),
                    Spec(
                        "org_old",
                        f"Open more than {OLD_AFTER_DAYS} days",
                        is_open & old,
                        [("view", "all"), *OPEN_PARAMS, ("created_to", cutoff.isoformat())],
                        old_hint,
                    ),
                    Spec(
                        "org_today",
                        "Raised today",
                        Q(created_at__gte=day_start(today)),
                        [("view", "all"), ("created_from", today.isoformat())],
                    ),
                ],
            )  # fmt: skip
        )
    return sections


def dashboard_context(user) -> dict:
    """Everything templates/analytics/dashboard.html shows for `user`."""
    roles = user_roles(user)
    today = timezone.localdate()
    sections = _specs(user, roles, today)
    specs = [spec for _, group in sections for spec in group]
    visible = visible_tickets(user)
    # Every figure is open work or raised today: bounding the scan to those rows lets the
    # database use the open-ticket partial index and skip closed history.
    bound = Q(status__in=OPEN_STATUSES) | Q(created_at__gte=day_start(today))
    counts = visible.filter(bound).aggregate(
        **{spec.key: Count("id", filter=spec.condition) for spec in specs}
    )
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
    }
    context.update(_lists(user, roles, visible))
    context["breakdown"] = _breakdown(roles, visible)
    return context


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


def _breakdown(roles: Roles, visible) -> dict | None:
    """Open work per team (admins, agents) or per group (SPOCs), each row linked."""
    is_open = Q(status__in=OPEN_STATUSES)
    if roles.is_admin or roles.is_agent:
        rows = visible.filter(is_open)
        if not roles.is_admin:
            rows = rows.filter(team_id__in=sorted(roles.agent_team_ids))
        rows = rows.values("team_id", "team__name").annotate(n=Count("id")).order_by("-n")[:20]
        view = "all" if roles.is_admin else "team"
        return {
            "title": "Open tickets per team",
            "rows": [
                (r["team__name"] or "No team (unmapped)", r["n"],
                 list_url([("view", view), ("team", r["team_id"]), *OPEN_PARAMS])
                 if r["team_id"] else None)
                for r in rows
            ],
        }  # fmt: skip
    if roles.is_spoc:
        rows = (
            visible.filter(is_open, group_id__in=sorted(roles.spoc_group_ids))
            .values("group_id", "group__name")
            .annotate(n=Count("id"))
            .order_by("-n")
        )
        return {
            "title": "Open tickets per group",
            "rows": [
                (r["group__name"], r["n"],
                 list_url([("view", "all"), ("group", r["group_id"]), *OPEN_PARAMS]))
                for r in rows
            ],
        }  # fmt: skip
    return None
