"""Who may see and do what with tickets: the only place that decides it.

One value per user, `Reach` (computed once per request by `reach_of`), holds everything
the rules need: everything (admins), their teams, the teams they lead, their SPOC groups.
Every encoding of the rules derives from it:
- querysets: `Ticket.objects.visible_to(user)` (also `visible_tickets(user)`),
  `Comment/TicketEvent/Attachment.objects.visible_to(user, ticket)`, `worker_scope` for
  conditions across tickets (search, analytics);
- one ticket: `get_ticket_for_user` (404 for anyone who may not see it, exactly as for a
  number that does not exist, so numbers leak nothing), `ticket_roles` and the `can_*`
  predicates the services call on the locked row;
- the portal's own jobs read through one named bypass, `system_tickets()`.

Roles relative to one ticket (`ticket_roles`):
- requester: raised it;
- agent: member of the ticket's team, or its assignee;
- lead: lead of the ticket's team;
- spoc: SPOC of the ticket's business unit group;
- admin: the staff flag;
- watcher: watches it and holds none of the roles above (the requester of a ticket merged
  into it is made one; anyone who can see a ticket may watch it).
Internal comments, the events about them and their files are for the roles in
`WORKER_ROLES`; a requester or a watcher reads the `PUBLIC` rows.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Lookup, Q, QuerySet

from portal.accounts.roles import (
    ADMIN,
    AGENT,
    LEAD,
    REQUESTER,
    SPOC,
    Roles,
    give_roles,
    signed_in,
    user_roles,
)
from portal.lib import compiled
from portal.lib.http import NotVisible
from portal.lib.memo import memoised_on
from portal.tickets import page_facts, page_rows
from portal.tickets.models import (
    Attachment,
    Comment,
    Ticket,
    TicketEvent,
    format_number,
    parse_number,
)

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.accounts.types import Visitor

# Relative to one ticket only (not a role in `accounts.roles`): watching it, and nothing more.
WATCHER = "watcher"
WORKER_ROLES = frozenset({ADMIN, SPOC, LEAD, AGENT})
# The people a ticket is *for*: they read and write its public side only.
PARTICIPANT_ROLES = frozenset({REQUESTER, WATCHER})
# A condition no row meets. Not `Q()`: an empty Q vanishes when OR-ed with another.
NOTHING = Q(pk__in=[])

# What a requester reads of a ticket: the public rows. Everything internal (notes, the
# events about them, their files) is for the people working the ticket.
PUBLIC: dict[type[Comment | TicketEvent | Attachment], Q] = {
    Comment: Q(is_internal=False),
    TicketEvent: Q(is_internal=False),
    Attachment: Q(comment__isnull=True) | Q(comment__is_internal=False),
}


class _InArray(Lookup):
    """`id = ANY(ARRAY(subquery))` on PostgreSQL, `id IN (subquery)` elsewhere.

    Why not `id IN (subquery)` everywhere: OR-ed with the requester test, PostgreSQL runs
    an IN as a hashed subplan, a filter it cannot look up in an index, so a requester's
    list walked the whole "recently updated" index to find their few tickets (120 ms at
    100,000 tickets instead of 0.3 ms). `ANY(ARRAY(…))` is an init plan run once whose
    result the primary key index looks up, OR-ed with the requester index (BitmapOr).
    """

    lookup_name = "in_array"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        rhs = rhs if rhs.startswith("(") else f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]


@dataclass(frozen=True)
class Reach:
    """Everything the access rules need to know about one user, computed once per request.

    Every encoding of "who sees what" derives from this one value: the querysets
    (`ticket_q`, `work_q`), the roles on one ticket (`roles_on`), and the analytics' split
    between rollup and direct reads (`team_ids`, `group_ids`, `assigned_elsewhere_q`).
    To change a rule (say, what SPOCs see), change it here.
    """

    user_id: int | None = None  # None: anonymous or deactivated, reaches nothing
    everything: bool = False  # admins
    team_ids: tuple[int, ...] = ()  # teams they are an active member of (agents, leads)
    lead_team_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()  # groups they are SPOC of

    @property
    def works_tickets(self) -> bool:
        return self.everything or bool(self.team_ids or self.group_ids)

    def work_q(self, prefix: str = "") -> Q:
        """Tickets they work on: they read internal notes and the whole history there."""
        scope = self.team_or_group_q(prefix)
        if self.team_ids and not self.everything:
            scope |= Q(**{f"{prefix}assignee_id": self.user_id})
        return scope

    def team_or_group_q(self, prefix: str = "") -> Q:
        """The part of `work_q` decided by team and group alone (what the analytics rollup,
        keyed by team and group, can hold)."""
        if self.user_id is None:
            return NOTHING
        if self.everything:
            return ~NOTHING
        scope = NOTHING
        if self.team_ids:
            scope |= Q(**{f"{prefix}team_id__in": self.team_ids})
        if self.group_ids:
            scope |= Q(**{f"{prefix}group_id__in": self.group_ids})
        return scope

    def ticket_q(self, prefix: str = "") -> Q:
        """Tickets they may see: what they work on, what they raised, what they watch."""
        if self.user_id is None or self.everything:
            return self.work_q(prefix)
        return (
            self.work_q(prefix)
            | Q(**{f"{prefix}requester_id": self.user_id})
            | self.watching_q(prefix)
        )

    def watching_q(self, prefix: str = "") -> Q:
        """Tickets they watch (`_InArray`: their watch rows read once, first, through the
        watchers' user index; docs/benchmarks.md has the list's cost with it)."""
        if self.user_id is None:
            return NOTHING
        watched = Ticket.watchers.through.objects.filter(user_id=self.user_id)
        return Q(_InArray(F(f"{prefix}id"), watched.values("ticket_id")))

    def assigned_elsewhere_q(self) -> Q | None:
        """Tickets they work only because they hold them (assigned outside their teams and
        groups); None when there can be none. Analytics reads these directly, and the rest
        of `work_q` from the rollup, which is keyed by team and group."""
        if self.everything or not self.team_ids:
            return None
        return (
            Q(assignee_id=self.user_id)
            & ~Q(team_id__in=self.team_ids)
            & ~Q(group_id__in=self.group_ids)
        )

    def roles_on(self, ticket: Ticket) -> frozenset[str]:
        """The roles they hold on this ticket (empty: an outsider)."""
        if self.user_id is None:
            return frozenset()
        held: set[str] = set()
        if self.everything:
            held.add(ADMIN)
        if ticket.group_id in self.group_ids:
            held.add(SPOC)
        if ticket.team_id is not None and ticket.team_id in self.lead_team_ids:
            held.add(LEAD)
        if (ticket.team_id is not None and ticket.team_id in self.team_ids) or (
            ticket.assignee_id == self.user_id and self.team_ids
        ):
            held.add(AGENT)
        if ticket.requester_id == self.user_id:
            held.add(REQUESTER)
        if not held and _watches(ticket, self.user_id):
            held.add(WATCHER)
        return frozenset(held)


def watches(user: "Visitor", ticket: Ticket) -> bool:
    """Whether `user` watches `ticket` (the page's Watch button): the access layer's own
    answer, so a watcher's page asks it once."""
    return signed_in(user) and _watches(ticket, user.pk)


def _watches(ticket: Ticket, user_id: int) -> bool:
    """Whether `user_id` watches `ticket`: one query the first time it is asked of this
    row, none after (kept on the row). Only asked of someone holding no other role, so
    nobody else pays for it."""
    known: dict[int, bool] = ticket.__dict__.setdefault("_portal_watched_by", {})
    if user_id not in known:
        known[user_id] = ticket.watchers.filter(pk=user_id).exists()
    return known[user_id]


def reach_of(user: "Visitor") -> Reach:
    """The user's `Reach` (cached on the user object, like their roles)."""
    if not signed_in(user) or not user.is_active:
        return Reach()
    return memoised_on(user, "_portal_reach", lambda: _reach(user))


def _reach(user: "User") -> Reach:
    roles = user_roles(user)
    return Reach(
        user_id=user.pk,
        everything=roles.is_admin,
        team_ids=tuple(sorted(roles.agent_team_ids)),
        lead_team_ids=tuple(sorted(roles.lead_team_ids)),
        group_ids=tuple(sorted(roles.spoc_group_ids)),
    )


def stand_in_user(user_id: int, roles: Roles) -> "User":
    """An active user who is nobody, with id `user_id` and `roles`: every rule here
    treats them as it would a real person with those roles. A statement compiled once per
    shape (the ticket list's page, portal/tickets/list_page.py; the dashboard's reads,
    analytics/dashboard.py) is built for such a user with stand-in ids, then run with the
    real person's; the rules stay this module's."""
    from portal.accounts.models import User

    user = User(pk=user_id, is_active=True, is_staff=roles.is_admin)
    give_roles(user, roles)
    return user


def visible_tickets(user: "Visitor") -> QuerySet[Ticket]:
    """Tickets `user` may see, as a queryset (no query runs until it is evaluated)."""
    return Ticket.objects.visible_to(user)


def worked_tickets(user: "Visitor", *, part: str = "all") -> QuerySet[Ticket]:
    """Tickets `user` works on (what analytics counts), not ones they merely raised.

    Only team, group and assignee are tested, the columns analytics' covering indexes
    hold (the requester test of `visible_tickets` is implied and would take the reads off
    them). `part` splits them for the rollup: "teams_and_groups" (what the rollup holds)
    and "assigned_elsewhere" (held outside their teams and groups; empty for most).
    """
    reach = reach_of(user)
    if part == "all":
        condition = reach.work_q()
    elif part == "teams_and_groups":
        condition = reach.team_or_group_q()
    elif part == "assigned_elsewhere":
        condition = reach.assigned_elsewhere_q() or NOTHING
    else:
        raise ValueError(f"Unknown part of the worked tickets: {part!r}")
    return Ticket.objects.filter(condition)


def worker_scope(user: "Visitor", prefix: str = "") -> Q:
    """Tickets `user` works on (may read internal comments of), as a Q on `prefix`.

    `prefix` lets comment queries say `worker_scope(user, "ticket__")`.
    """
    return reach_of(user).work_q(prefix)


def history_of(tickets: QuerySet[Ticket]) -> QuerySet[TicketEvent]:
    """History rows of `tickets`, a queryset this module already scoped (analytics counts
    status changes across a person's tickets with it)."""
    return TicketEvent.objects.filter(ticket_id__in=tickets.order_by().values("pk"))


def searchable_comments(user: "Visitor") -> QuerySet[Comment]:
    """Comments whose text may make a ticket match `user`'s search: public ones, and
    internal ones on tickets they work. Search keeps only tickets `visible_tickets(user)`
    holds, so a public comment on a ticket they cannot see matches nothing; not joining
    the ticket's visibility here keeps each search branch on its own index."""
    reach = reach_of(user)
    if reach.everything:
        return Comment.objects.all()
    return Comment.objects.filter(PUBLIC[Comment] | reach.work_q("ticket__"))


def restrict_tickets[QS: QuerySet[Ticket]](queryset: QS, user: "Visitor") -> QS:
    """`queryset` narrowed to the tickets `user` may see (`Ticket.objects.visible_to`)."""
    reach = reach_of(user)
    if reach.user_id is None:
        return queryset.none()
    if reach.everything:
        return queryset
    return queryset.filter(reach.ticket_q())


def public_only[QS: QuerySet[Any]](queryset: QS) -> QS:
    """Comments, events or files with the internal ones left out."""
    return queryset.filter(PUBLIC[queryset.model])


def part_scope(user: "Visitor", ticket: Ticket) -> str | None:
    """How much of `ticket`'s comments, events and files `user` may read: None for an
    outsider, "all" for the people working it, "public" for the others (requester,
    watchers)."""
    roles = reach_of(user).roles_on(ticket)
    if not roles:
        return None
    return "all" if roles & WORKER_ROLES else "public"


def restrict_part[QS: QuerySet[Any]](queryset: QS, user: "Visitor", ticket: Ticket) -> QS:
    """Comments, events or files of `ticket` that `user` may read (`part_scope`)."""
    scope = part_scope(user, ticket)
    if scope is None:
        return queryset.none()
    return queryset if scope == "all" else public_only(queryset)


@dataclass(frozen=True)
class PagePart[M: (Comment, TicketEvent)]:
    """Rows of a part of the ticket page, oldest first, and how many earlier rows of the
    part the viewer may read that are not among them (0: the part is whole)."""

    rows: list[M]
    earlier: int = 0


def page_comments(
    user: "Visitor", ticket: Ticket, *, newest: int | None = None
) -> PagePart[Comment]:
    """The ticket page's comments: `Comment.objects.visible_to(user, ticket)` with their
    authors named (`accounts.selectors.naming`), through a compiled statement; with
    `newest`, only that many of the latest (`PagePart.earlier` counts the rest)."""
    return _page_parts(user, ticket, Comment, "author", "ticket page: comments", None, newest)


def page_events(
    user: "Visitor", ticket: Ticket, *, newest: int | None = None
) -> PagePart[TicketEvent]:
    """The ticket page's history: `TicketEvent.objects.visible_to(user, ticket)` less the
    "commented" events (the comments have their own list), actors named, compiled; with
    `newest`, only that many of the latest."""
    commented = Q(kind=TicketEvent.Kind.COMMENTED)
    return _page_parts(
        user, ticket, TicketEvent, "actor", "ticket page: history", commented, newest
    )


def _page_parts[M: (Comment, TicketEvent)](
    user: "Visitor",
    ticket: Ticket,
    model: type[M],
    person: str,
    name: str,
    leave_out: Q | None,
    newest: int | None,
) -> PagePart[M]:
    """`restrict_part`'s rows of `ticket` in their order, with a statement compiled once
    per process for each scope (portal/lib/compiled.py): building and compiling the
    queryset cost the page more than the database's answer (0.6 of 1.5 ms per read).

    With `newest`, the statement reads the latest `newest + 1` rows, newest first: one
    more than are shown tells that earlier rows exist, and only then are they counted
    (one more query, through the same scope), so an ordinary ticket's page reads as many
    statements as before and a ticket of thousands of comments costs what a hundred do."""
    scope = part_scope(user, ticket)
    if scope is None:
        return PagePart([])
    selected = page_rows.columns(model, person)

    def rows_of(ticket_id: int) -> QuerySet:
        rows = model.objects.filter(ticket_id=ticket_id)
        if leave_out is not None:
            rows = rows.exclude(leave_out)
        return rows if scope == "all" else public_only(rows)

    def build(ticket_id: int) -> QuerySet:
        rows = rows_of(ticket_id)
        if newest is not None:
            # Both models' order ("created_at", "id"), the other way round.
            rows = rows.order_by("-created_at", "-id")[: newest + 1]
        return rows.values_list(*selected)

    statement = f"{name} ({scope})" if newest is None else f"{name} ({scope}, newest {newest})"
    found = compiled.rows(statement, build, [ticket.pk], one_plan=True)
    shown = page_rows.instances(model, found, person)
    if newest is None:
        return PagePart(shown)
    earlier = 0
    if len(shown) > newest:
        shown = shown[:newest]
        # The rows before the oldest one shown: exact whatever was written or moved since
        # the read (a row added meanwhile is newer, not earlier).
        oldest = shown[-1]
        before = Q(created_at__lt=oldest.created_at) | Q(
            created_at=oldest.created_at, id__lt=oldest.pk
        )
        earlier = rows_of(ticket.pk).filter(before).count()
    shown.reverse()
    return PagePart(shown, earlier)


def last_routing_event(user: "Visitor", ticket: Ticket) -> TicketEvent | None:
    """The latest event about `ticket`'s assignee that `user` may read (routing, waiting,
    assignment), for "waiting for" on a ticket whose history the page shows only in part."""
    about_assignee = TicketEvent.objects.filter(ticket=ticket, field="assignee")
    return restrict_part(about_assignee, user, ticket).order_by("-created_at", "-id").first()


def system_read[M: (Ticket, Comment, TicketEvent, Attachment)](model: type[M]) -> QuerySet[M]:
    """Every row of `model`, for the portal's own jobs: routing's load count, SLA
    escalation, the analytics rollup, the search probe (whose ids the caller intersects
    with `visible_tickets`), a search window's edge (sort keys used as a bound inside the
    person's own scoped statement, never shown), storage-key checks. The one named
    bypass of the access rules, so a reader sees at a glance that a read is deliberately
    unscoped; never for what a person is shown without such an intersection."""
    return model.objects.all()


def with_related(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Tickets with their people joined and their group/category/subcategory/team fetched
    by id afterwards, in a fixed number of queries. Email in's matching reads its ticket
    this way; lists and the ticket page instead join the people and take the master rows
    from the cache (portal.catalog.selectors.attach_master_rows).

    Joining all six made PostgreSQL spend 6 ms *planning* each query (searching join
    orders), against 0.2 ms for the two-join query; the four lookups by primary key that
    replace the other joins cost less than that.
    """
    return queryset.select_related("requester", "assignee").prefetch_related(
        "group", "category", "subcategory", "team"
    )


def get_ticket_for_user(user: "Visitor", number: str, *, write: bool = False) -> Ticket:
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
    if write:
        # The row by its id, locked (`of=("self",)`: not the joined people), then the same
        # rules as `visible_tickets` asked of the row (`roles_on`; a test holds the two
        # equal): a write's statement is then the same small one for everybody, where the
        # visibility condition cost more to build than the read. An outsider's request
        # holds the lock only until its 404 rolls the transaction back.
        ticket = (
            Ticket.objects.select_related("requester", "assignee")
            .select_for_update(of=("self",))
            .filter(pk=pk)
            .first()
        )
        if ticket is None or not reach_of(user).roles_on(ticket):
            raise NotVisible("No such ticket.")
        return ticket
    ticket = visible_tickets(user).select_related("requester", "assignee").filter(pk=pk).first()
    if ticket is None:
        raise NotVisible("No such ticket.")
    return ticket


def get_ticket_for_page(user: "Visitor", number: str) -> Ticket:
    """The ticket page's read of `number`: what `get_ticket_for_user` returns, 404 alike,
    with whether each part of the page has rows to read (portal/tickets/page_facts.py)
    and whether `user` watches it (`watched`).

    The row is read by its id and the rules of `visible_tickets` are asked of it
    (`roles_on`, as writes do; a test holds the two equal for every persona): the
    visibility condition cost more to compile than the read took. The watch flag comes in
    the same statement, so a watcher's role costs no query of its own, and an outsider's
    request makes the same one statement as a number that does not exist.
    """
    pk = parse_number(number)
    if pk is None:
        raise NotVisible("No such ticket.")
    user_id = user.pk if signed_in(user) else None
    ticket = _page_ticket(pk, user_id)
    if ticket is None:
        raise NotVisible("No such ticket.")
    if user_id is not None:
        ticket.__dict__.setdefault("_portal_watched_by", {})[user_id] = ticket.__dict__["watched"]
    if not reach_of(user).roles_on(ticket):
        raise NotVisible("No such ticket.")
    return ticket


def _page_ticket(pk: int, user_id: int | None) -> Ticket | None:
    """The row `pk` with its requester and assignee named and its page facts, through a
    statement compiled once per process (portal/lib/compiled.py): building and compiling
    it with its facts cost more Python than PostgreSQL took to plan and run it."""
    people = ("requester", "assignee")
    facts = page_facts.names()

    def build(ticket_id: int, watcher_id: int) -> QuerySet:
        return (
            Ticket.objects.filter(pk=ticket_id)
            .order_by()
            .annotate(
                watched=page_facts.WATCHED.expression(user=watcher_id), **page_facts.annotations()
            )
            .values_list(*page_rows.looked_up(Ticket, *people), "watched", *facts)[:1]
        )

    # No one has the id 0: someone not signed in watches nothing (and sees nothing).
    found = compiled.rows("ticket page: ticket", build, [pk, user_id or 0], one_plan=True)
    if not found:
        return None
    row = found[0]
    ticket = page_rows.instance(Ticket, row, *people)
    extra = row[page_rows.width(Ticket, *people) :]
    for name, value in zip(("watched", *facts), extra, strict=True):
        ticket.__dict__[name] = value
    return ticket


def ticket_roles(user: "Visitor", ticket: Ticket) -> frozenset[str]:
    """The roles `user` holds on this ticket (empty: an outsider)."""
    return reach_of(user).roles_on(ticket)


# --- Predicates, one per action; services call them on the locked row. ----------------------


def can_view(user: "Visitor", ticket: Ticket) -> bool:
    return bool(ticket_roles(user, ticket))


def is_worker(user: "Visitor", ticket: Ticket) -> bool:
    """Works this ticket: sees internal comments and the full history."""
    return bool(ticket_roles(user, ticket) & WORKER_ROLES)


def can_comment(user: "Visitor", ticket: Ticket) -> bool:
    """Everyone who sees it: publicly, as the requester would, for a requester or watcher
    (`services.comment_add` decides what their comment does to the status)."""
    return can_view(user, ticket)


def participant_only(roles: frozenset[str]) -> bool:
    """The requester or a watcher, with no role that works the ticket: they write on its
    public side, and their comments are answers, not responses."""
    return bool(roles) and roles <= PARTICIPANT_ROLES


def can_comment_internal(user: "Visitor", ticket: Ticket) -> bool:
    return is_worker(user, ticket)


def can_take(user: "Visitor", ticket: Ticket) -> bool:
    """Members of the ticket's team (and admins) take open tickets not already theirs."""
    held = ticket_roles(user, ticket)
    member = ticket.team_id is not None and ticket.team_id in user_roles(user).agent_team_ids
    return (
        ticket.is_open
        and ticket.assignee_id != user.pk
        and ticket.team_id is not None
        and (member or ADMIN in held)
    )


def can_assign(user: "Visitor", ticket: Ticket) -> bool:
    """Leads of the team, SPOCs of the group and admins assign within the ticket's team."""
    return ticket.is_open and bool(ticket_roles(user, ticket) & {ADMIN, SPOC, LEAD})


def can_move_team(user: "Visitor", ticket: Ticket) -> bool:
    """Anyone working the ticket may hand it to another team (the history says who, why)."""
    return ticket.is_open and bool(ticket_roles(user, ticket) & {ADMIN, SPOC, LEAD, AGENT})


def can_edit(user: "Visitor", ticket: Ticket) -> bool:
    """Title, description, priority and classification are edited by the people working it."""
    return is_worker(user, ticket)


def users_who_can_view(ticket: Ticket, users: QuerySet["User"]) -> QuerySet["User"]:
    """`users` narrowed to those who may see `ticket`, in one query: the SQL twin of
    `can_view` (any role from `ticket_roles`) for telling many people at once.

    It must agree with `ticket_roles`; a test compares the two for every persona.
    """
    from django.db.models import Exists, OuterRef
    from django.db.models.expressions import Combinable

    from portal.catalog.models import BusinessUnitGroup, TeamMember

    active_membership = TeamMember.objects.filter(
        user=OuterRef("pk"), is_active=True, team__is_active=True
    )
    # A Q at run time; django-stubs types `Q | Exists` as a Combinable (Q's `|` accepts
    # any condition, its stub only another Q).
    may: Q | Combinable = Q(is_staff=True) | Q(pk=ticket.requester_id)
    # Watchers see what they watch (`Reach.watching_q`).
    may |= Exists(Ticket.watchers.through.objects.filter(ticket_id=ticket.pk, user=OuterRef("pk")))
    may |= Exists(
        BusinessUnitGroup.objects.filter(pk=ticket.group_id, is_active=True, spocs=OuterRef("pk"))
    )
    if ticket.team_id is not None:
        may |= Exists(active_membership.filter(team_id=ticket.team_id))
    if ticket.assignee_id is not None:
        # The assignee sees it while an agent of any team (`ticket_roles`: AGENT).
        may |= Q(pk=ticket.assignee_id) & Exists(active_membership)
    return users.filter(may, is_active=True)


def get_attachment_for_user(user: "Visitor", pk: int) -> Attachment:
    """The file if `user` may see its ticket (and its comment, when internal); else 404.

    As for a ticket they cannot see, a refusal does not confirm that the file exists.
    """
    attachment = Attachment.objects.select_related("comment").filter(pk=pk).first()
    if attachment is None:
        raise NotVisible("No such file.")
    ticket = get_ticket_for_user(user, format_number(attachment.ticket_id))
    if attachment.is_internal and not is_worker(user, ticket):
        raise NotVisible("No such file.")
    return attachment
