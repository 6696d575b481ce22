"""Who may see and do what with tickets: the only way to read them.

Every page, export, search, count and API endpoint starts from `visible_tickets(user)`
or `get_ticket_for_user(...)`; scoping happens in SQL, never by filtering in Python.
Someone who may not see a ticket gets a 404 for it, exactly as for a number that does not
exist, so ticket numbers leak nothing.

Roles relative to one ticket (`ticket_roles`):
- requester: raised it;
- agent: member of the ticket's team, or its assignee;
- lead: lead of the ticket's team;
- spoc: SPOC of the ticket's business unit group;
- admin: the staff flag.
"""

from django.db.models import Q, QuerySet

from portal.accounts.roles import ADMIN, AGENT, LEAD, REQUESTER, SPOC, user_roles
from portal.lib.http import NotVisible
from portal.tickets.models import Ticket, parse_number

WORKER_ROLES = frozenset({ADMIN, SPOC, LEAD, AGENT})


def visible_tickets(user) -> QuerySet[Ticket]:
    """Tickets `user` may see, as a queryset (no query runs until it is evaluated)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Ticket.objects.none()
    roles = user_roles(user)
    if roles.is_admin:
        return Ticket.objects.all()
    scope = Q(requester=user)
    if roles.agent_team_ids:
        scope |= Q(team_id__in=sorted(roles.agent_team_ids)) | Q(assignee=user)
    if roles.spoc_group_ids:
        scope |= Q(group_id__in=sorted(roles.spoc_group_ids))
    return Ticket.objects.filter(scope)


def worker_scope(user, prefix: str = "") -> Q:
    """Tickets `user` works on (may read internal comments of), as a Q on `prefix`.

    `prefix` lets comment queries say `worker_scope(user, "ticket__")`.
    """
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    roles = user_roles(user)
    if roles.is_admin:
        # Not `Q()`: an empty Q vanishes when OR-ed with another condition.
        return ~Q(pk__in=[])
    scope = Q(pk__in=[])
    if roles.agent_team_ids:
        scope |= Q(**{f"{prefix}team_id__in": sorted(roles.agent_team_ids)})
        scope |= Q(**{f"{prefix}assignee": user})
    if roles.spoc_group_ids:
        scope |= Q(**{f"{prefix}group_id__in": sorted(roles.spoc_group_ids)})
    return scope


def comment_visibility(user) -> Q | None:
    """A Q on Comment keeping those `user` may read; None when they may read all."""
    if getattr(user, "is_authenticated", False) and user_roles(user).is_admin:
        return None
    return Q(is_internal=False) | worker_scope(user, "ticket__")


def with_related(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Tickets with the people and master data every page shows, in a fixed number of
    queries: users joined, group/category/subcategory/team fetched by id afterwards.

    Joining all six made PostgreSQL spend 6 ms *planning* each list or ticket page
    (searching join orders), against 0.2 ms for the two-join query; the four lookups by
    primary key that replace the other joins cost less than that.
    """
    return queryset.select_related("requester", "assignee").prefetch_related(
        "group", "category", "subcategory", "team"
    )


def get_ticket_for_user(user, number: str, *, write: bool = False) -> Ticket:
    """The ticket called `number` if `user` may see it; otherwise 404 (`NotVisible`).

    With `write=True` the row is locked (SELECT … FOR UPDATE) for the rest of the
    transaction, so the caller's checks and changes see no concurrent update.
    """
    pk = parse_number(number)
    if pk is None:
        raise NotVisible("No such ticket.")
    # The people in the same query; group, category, subcategory and team load when a
    # caller reads them. For one ticket a prefetch would cost the same query each, whether
    # the caller needs them or not (the write paths and the API's comments and history
    # do not).
    queryset = visible_tickets(user).select_related("requester", "assignee")
    if write:
        # `of=("self",)`: lock only the ticket row, not the joined master data.
        queryset = queryset.select_for_update(of=("self",))
    ticket = queryset.filter(pk=pk).first()
    if ticket is None:
        raise NotVisible("No such ticket.")
    return ticket


def ticket_roles(user, ticket: Ticket) -> frozenset[str]:
    """The roles `user` holds on this ticket (empty: an outsider)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = user_roles(user)
    held = set()
    if roles.is_admin:
        held.add(ADMIN)
    if ticket.group_id in roles.spoc_group_ids:
        held.add(SPOC)
    if ticket.team_id is not None and ticket.team_id in roles.lead_team_ids:
        held.add(LEAD)
    if (ticket.team_id is not None and ticket.team_id in roles.agent_team_ids) or (
        ticket.assignee_id == user.pk and roles.is_agent
    ):
        held.add(AGENT)
    if ticket.requester_id == user.pk:
        held.add(REQUESTER)
    return frozenset(held)


# --- Predicates, one per action; services call them on the locked row. ----------------------


def can_view(user, ticket: Ticket) -> bool:
    return bool(ticket_roles(user, ticket))


def is_worker(user, ticket: Ticket) -> bool:
    """Works this ticket: sees internal comments and the full history."""
    return bool(ticket_roles(user, ticket) & WORKER_ROLES)


def can_comment(user, ticket: Ticket) -> bool:
    return can_view(user, ticket)


def can_comment_internal(user, ticket: Ticket) -> bool:
    return is_worker(user, ticket)


def can_take(user, ticket: Ticket) -> bool:
    """Members of the ticket's team (and admins) take open tickets not already theirs."""
    held = ticket_roles(user, ticket)
    member = ticket.team_id is not None and ticket.team_id in user_roles(user).agent_team_ids
    return (
        ticket.is_open
        and ticket.assignee_id != user.pk
        and ticket.team_id is not None
        and (member or ADMIN in held)
    )


def can_assign(user, ticket: Ticket) -> bool:
    """Leads of the team, SPOCs of the group and admins assign within the ticket's team."""
    return ticket.is_open and bool(ticket_roles(user, ticket) & {ADMIN, SPOC, LEAD})


def can_move_team(user, ticket: Ticket) -> bool:
    """Anyone working the ticket may hand it to another team (the history says who, why)."""
    return ticket.is_open and bool(ticket_roles(user, ticket) & {ADMIN, SPOC, LEAD, AGENT})


def can_edit(user, ticket: Ticket) -> bool:
    """Title, description, priority and classification are edited by the people working it."""
    return is_worker(user, ticket)


def users_who_can_view(ticket: Ticket, users: QuerySet) -> QuerySet:
    """`users` narrowed to those who may see `ticket`, in one query: the SQL twin of
    `can_view` (any role from `ticket_roles`) for telling many people at once.

    It must agree with `ticket_roles`; a test compares the two for every persona.
    """
    from django.db.models import Exists, OuterRef

    from portal.catalog.models import BusinessUnitGroup, TeamMember

    active_membership = TeamMember.objects.filter(
        user=OuterRef("pk"), is_active=True, team__is_active=True
    )
    may = Q(is_staff=True) | Q(pk=ticket.requester_id)
    may |= Exists(
        BusinessUnitGroup.objects.filter(pk=ticket.group_id, is_active=True, spocs=OuterRef("pk"))
    )
    if ticket.team_id is not None:
        may |= Exists(active_membership.filter(team_id=ticket.team_id))
    if ticket.assignee_id is not None:
        # The assignee sees it while an agent of any team (`ticket_roles`: AGENT).
        may |= Q(pk=ticket.assignee_id) & Exists(active_membership)
    return users.filter(may, is_active=True)
