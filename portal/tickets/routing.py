"""Where a ticket goes: the routing chain, which always ends at a named person.

1. **Team members.** The classification mapping picks the team; the ticket is assigned to
   the team's active member (active account) with the fewest open tickets; among equally
   loaded members, the one who was handed a ticket of this team longest ago (or never)
   goes first, which is round-robin without keeping a pointer anywhere. Leads are members
   and share the load with the others.
2. **The team's leads.** A team whose only active members are leads is "memberless": the
   ticket is assigned to its least-loaded lead, with the reason saying so.
3. **The group's SPOCs.** No mapping, or a team with nobody in it: the ticket *waits*
   unassigned (in its team, if any) and the group's active SPOCs are told why.
4. **The admins on triage duty.** A group without a SPOC: the admins on triage duty
   (`accounts.triage`) are told instead.

Steps 1–2 *assign*: the person is a member of the ticket's team and can take, work and
hand out its tickets. Steps 3–4 *wait with people told*: SPOCs and triage admins are not
members of the team, so making them the assignee would hand work to someone who cannot
take it and would hide the gap; they route it (move team, staff the team, map the
classification) and the ticket list's "Waiting with nobody able to act" shows what is left.
If nobody is on triage duty the ticket waits with nobody told, and the history says so:
`accounts.triage` refuses to take the last admin off duty while a gap exists, so this only
happens in an organisation that never named one.

Every decision carries its reason in words, written into the history by the caller, and
`why` (the gap, e.g. "IT Network & Security has no active members") for the message to
whoever it lands on.

Two tickets created at the same instant may both pick the same least-loaded agent; the
next creation evens it out. Locking the team to prevent that would serialise creation.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from portal.accounts.models import User
from portal.accounts.triage import triage_admins
from portal.catalog.coverage import staffed
from portal.catalog.models import BusinessUnitGroup, Priority, Team, TeamMember
from portal.catalog.selectors import active_spocs, find_mapping
from portal.lib import compiled
from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, Ticket


class Step(StrEnum):
    MEMBER = "member"
    LEAD = "lead"
    SPOC = "spoc"
    TRIAGE = "triage"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Holder:
    """Where the chain ended: an assignee (member, lead) or the people told (SPOC, triage)."""

    step: Step
    reason: str
    why: str = ""  # the gap that pushed it past the team, for the people it lands on
    assignee_id: int | None = None
    assignee_name: str = ""
    told: tuple = field(default_factory=tuple)
    # The assignee's account as the members' query read it: the caller sets it on the
    # ticket, so telling them needs no second read of the same row.
    assignee: User | None = field(default=None, compare=False, repr=False)

    @property
    def waiting(self) -> bool:
        return self.assignee_id is None

    @property
    def told_names(self) -> str:
        return _names(self.told)


@dataclass(frozen=True)
class RoutingDecision:
    team: Team | None
    default_priority: str
    team_reason: str
    holder: Holder


def _names(users) -> str:
    names = [str(user) for user in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def candidates_query(team_id: int):
    """Active members of active accounts of the team, as rows of `_COLUMNS`.

    One query: each member with their open-ticket count (across all teams, that is their
    real load) and the last ticket of this team they got (`None`: never). Both are
    correlated subqueries rather than one aggregate over a join: the join would read every
    ticket each member was ever given (seconds at a million tickets), while the open count
    is served by the partial index of open tickets per assignee.
    """
    mine = access.system_read(Ticket).filter(assignee_id=OuterRef("user_id")).order_by()
    # COUNT(*), not COUNT(id): the partial index then answers alone (index-only scan),
    # without visiting each open ticket's row (24 → 3 ms for a busy team at 1M tickets).
    open_count = (
        mine.filter(status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        TeamMember.objects.filter(team_id=team_id, is_active=True, user__is_active=True)
        .annotate(
            open_count=Coalesce(Subquery(open_count), 0),
            last_ticket=Subquery(mine.filter(team_id=team_id).order_by("-id").values("id")[:1]),
        )
        .order_by()
        .values_list(*_COLUMNS)
    )


# What a candidate row holds: enough to choose, to word the reason and to tell the chosen
# one (`User.__str__`, `get_short_name`, the address), all plain text and integers, so the
# rows read the same from every database without the ORM's value converters.
_COLUMNS = ("role", "user_id", "user__full_name", "user__email", "open_count", "last_ticket")


@dataclass(frozen=True)
class Candidate:
    role: str
    user_id: int
    full_name: str
    email: str
    open_count: int
    last_ticket: int | None


def _candidates(team: Team) -> list[Candidate]:
    """The team's candidates, least loaded first, then longest since a ticket (or never).

    The rows of `candidates_query`, read with its statement compiled once per process
    (`portal.lib.compiled`): building the query and compiling its two correlated
    subqueries was the largest single piece of raising a ticket in Python (about 15 % of
    it under the profiler), for a statement that differs per team only in the team's id.
    """
    found = compiled.rows(
        "routing.candidates",
        candidates_query,
        [team.pk],
        using=router.db_for_read(TeamMember),
        # One plan for every team: the open count's status codes are in the SQL
        # (lib/code_lookups.py), so that plan uses the index of open tickets.
        one_plan=True,
    )
    return sorted(
        (Candidate(*row) for row in found),
        # Fewest open first; then never-given (None) before longest-ago; then stable by id.
        key=lambda m: (m.open_count, m.last_ticket is not None, m.last_ticket or 0, m.user_id),
    )


def _account(row: Candidate) -> User:
    """The chosen member's account, from the row: set on the ticket as its assignee, so
    telling them needs no second read. Only active accounts are candidates."""
    known = {"id": row.user_id, "full_name": row.full_name, "email": row.email, "is_active": True}
    # `from_db` takes the values in the model's field order.
    names = [f.attname for f in User._meta.concrete_fields if f.attname in known]
    return User.from_db(router.db_for_read(User), names, [known[name] for name in names])


def _assign_in_team(team: Team) -> Holder | None:
    rows = _candidates(team)
    if not rows:
        return None
    best = rows[0]
    user = _account(best)
    name = user.full_name or user.email
    if all(row.role == TeamMember.Role.LEAD for row in rows):
        why = f"{team.name} has no active members besides its lead{'s' if len(rows) > 1 else ''}"
        return Holder(
            Step.LEAD, f"{why}; assigned to the lead {name}.", why, user.pk, name, assignee=user
        )
    load = best.open_count
    tied = [row for row in rows if row.open_count == load]
    reason = f"Fewest open tickets in {team.name} ({load})"
    if len(tied) > 1:
        reason += f", next in turn among {len(tied)} equally loaded members"
    return Holder(Step.MEMBER, reason + ".", "", user.pk, name, assignee=user)


def gap_for(team: Team | None) -> str:
    """Why a ticket of this team (or of no team) cannot be assigned in the team."""
    if team is None:
        return "No team is mapped to this classification"
    if not team.is_active:
        return f"{team.name} is inactive"
    return f"{team.name} has no active members"


def holder_for(*, team: Team | None, group: BusinessUnitGroup) -> Holder:
    """Walk the chain for a ticket of `team` (None: unmapped) in `group`.

    Queries: one for the team's members; when nobody is there, the group's SPOCs (from the
    cache) and, without SPOCs, one for the admins on triage duty.
    """
    if team is not None and team.is_active and (held := _assign_in_team(team)):
        return held
    why = gap_for(team)
    spocs = active_spocs(group.pk)
    if spocs:
        return Holder(
            Step.SPOC,
            f"{why}; waiting for the SPOC{'s' if len(spocs) > 1 else ''} of {group.name} "
            f"({_names(spocs)}), who {'were' if len(spocs) > 1 else 'was'} told.",
            why,
            told=tuple(spocs),
        )
    triage = list(triage_admins())
    why = f"{why}, and {group.name} has no SPOC"
    if triage:
        return Holder(
            Step.TRIAGE,
            f"{why}; waiting for the admin{'s' if len(triage) > 1 else ''} on triage duty "
            f"({_names(triage)}), who {'were' if len(triage) > 1 else 'was'} told.",
            why,
            told=tuple(triage),
        )
    return Holder(
        Step.NOBODY,
        f"{why}, and no admin is on triage duty; nobody could be told.",
        why,
    )


def route(*, category_id: int, subcategory_id: int | None, group: BusinessUnitGroup):
    """The team (by classification mapping) and the holder (by the chain) of a new ticket."""
    mapping = find_mapping(category_id=category_id, subcategory_id=subcategory_id)
    if mapping is None:
        return RoutingDecision(
            team=None,
            default_priority=Priority.MEDIUM,
            team_reason="No team is mapped to this classification.",
            holder=holder_for(team=None, group=group),
        )
    scope = "this subcategory" if mapping.subcategory_id else "any subcategory of the category"
    return RoutingDecision(
        team=mapping.team,
        default_priority=mapping.default_priority or Priority.MEDIUM,
        team_reason=f"Classification mapping ({scope}) → {mapping.team.name}.",
        holder=holder_for(team=mapping.team, group=group),
    )


def waiting_in_no_team_q() -> Q:
    """Tickets nobody holds that nobody in a team can take: no team, an inactive team, or
    a team without an active member (active account). They wait for the SPOCs or triage."""
    # A Q at run time: Q's `|` takes any condition, but its django-stubs stub only another Q,
    # so the type checker sees `Q | ~Exists` as a Combinable.
    return Q(assignee__isnull=True) & (  # type: ignore[return-value]
        Q(team__isnull=True) | Q(team__is_active=False) | ~staffed(OuterRef("team_id"))
    )


def nobody_able_to_act_q() -> Q:
    """Open tickets waiting with nobody able to act: waiting in no team (above), or held by
    a deactivated account. Zero in a healthy organisation; the admin dashboard counts them
    and the ticket list's "waiting" view lists them.

    As `id IN (UNION ALL of the three ways)`, each answered by an index from the few teams
    or accounts concerned: one OR over joined tables could only be tested ticket by ticket,
    which read every open ticket for the count (0.25 s at 1M tickets) and walked the whole
    list's index when nothing matched (seconds).
    """
    open_tickets = access.system_read(Ticket).filter(status__in=OPEN_STATUSES).order_by()
    unheld = open_tickets.filter(assignee__isnull=True)
    unable_teams = Team.objects.filter(Q(is_active=False) | ~staffed(OuterRef("pk")))
    departed = get_user_model().objects.filter(is_active=False)
    ways = [
        unheld.filter(team__isnull=True),
        unheld.filter(team__in=unable_teams.values("pk")),
        open_tickets.filter(assignee__in=departed.values("pk")),
    ]
    first, *rest = (way.values("pk") for way in ways)
    return Q(pk__in=first.union(*rest, all=True))
