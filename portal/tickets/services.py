"""Every change to a ticket is one of these functions.

Each takes keyword-only arguments, runs in one transaction, locks the ticket row, checks
the actor's permission on the locked row (so a concurrent change cannot slip between the
check and the write), saves only the fields it changed and writes a TicketEvent for every
change. Refusals raise a `TicketError` before anything is written.

Each ends by telling the right people (`notify.py`) inside the same transaction: who is
told what is decided there and kept as one pending notice, so a change and its
notifications commit or roll back together; the worker delivers it within seconds.
"""

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable
from enum import Enum
from types import EllipsisType
from typing import Any, NamedTuple

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.catalog import approval_rules, request_forms
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    Priority,
    Subcategory,
    Team,
    TeamMember,
)
from portal.catalog.selectors import find_mapping
from portal.lib import inserts
from portal.tickets import access, notify, routing, signals, sla, transitions
from portal.tickets.errors import (
    ActionForbidden,
    EditConflict,
    IdempotencyConflict,
    InvalidFormValues,
    InvalidInput,
    OpenChildren,
    TicketClosed,
)
from portal.tickets.models import Comment, Status, Ticket, TicketEvent, format_number

Kind = TicketEvent.Kind
TITLE_MAX = 200
BODY_MAX = 20_000


def _name(user: User | None) -> str:
    return (user.full_name or user.email) if user is not None else ""


class _History:
    """Collects a change's events and writes them in one INSERT.

    It also remembers the ticket as it was when the change began (`before`), so `save()`
    can tell `signals.ticket_changed` receivers (analytics) what changed, in the same
    transaction. A new ticket has no `before`.
    """

    def __init__(
        self, ticket: Ticket, actor: User | None, now: dt.datetime, *, new: bool = False
    ) -> None:
        self.ticket, self.actor, self.now = ticket, actor, now
        self.events: list[TicketEvent] = []
        self.before = None if new else signals.snapshot(ticket)

    def add(
        self,
        kind: str,
        *,
        field: str = "",
        old: str | None = "",
        new: str | None = "",
        reason: str = "",
        internal: bool = False,
        actor: User | None | EllipsisType = ...,  # ...: the change's actor; None: the system
    ) -> None:
        self.events.append(
            TicketEvent(
                ticket=self.ticket,
                actor=self.actor if actor is ... else actor,
                kind=kind,
                field=field,
                # Codes for coded fields (status, priority); portal/tickets/history.py
                # labels them when someone reads the timeline.
                old_value=str(old or ""),
                new_value=str(new or ""),
                reason=reason,
                is_internal=internal,
                created_at=self.now,
            )
        )

    def save(self) -> None:
        for event in self.events:
            event.version = self.ticket.version
        # One statement made once per number of events (`portal.lib.inserts`).
        inserts.insert(self.events)
        signals.ticket_changed.send(
            sender=Ticket, ticket=self.ticket, before=self.before, events=self.events
        )


def _lock(actor: User, ticket: Ticket, expected_version: int | None) -> Ticket:
    """The ticket's current row, locked, if `actor` may see it (else Http404)."""
    locked = access.get_ticket_for_user(actor, ticket.number, write=True)
    if expected_version is not None and locked.version != expected_version:
        raise _conflict(locked, expected_version)
    return locked


def _conflict(ticket: Ticket, seen_version: int) -> EditConflict:
    changes = list(
        TicketEvent.objects.filter(ticket=ticket, version__gt=seen_version)
        .public()  # the stale editor may be the requester
        .exclude(kind=Kind.COMMENTED)  # comments do not make an edit stale
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return EditConflict(
        f"{ticket.number} was changed by someone else after you opened it. "
        "Nothing you sent was saved; review the changes below and try again.",
        changes,
    )


def _save(ticket: Ticket, fields: set[str], now: dt.datetime, *, bump: bool = True) -> None:
    ticket.updated_at = now
    fields = {*fields, "updated_at"}
    if bump:
        ticket.version += 1
        fields.add("version")
    ticket.save(update_fields=sorted(fields))


def _first_response(ticket: Ticket, actor: User, now: dt.datetime, fields: set[str]) -> None:
    """The first visible move by someone other than the requester starts the response clock."""
    if ticket.first_response_at is None and actor.pk != ticket.requester_id:
        ticket.first_response_at = now
        fields.add("first_response_at")


def _clean_text(value: str, *, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{label} cannot be empty.")
    if len(value) > max_length:
        raise InvalidInput(f"{label} is too long (at most {max_length} characters).")
    return value


def _check_classification(
    group: BusinessUnitGroup, category: Category, subcategory: Subcategory | None
) -> None:
    if not (group.is_active and category.is_active):
        raise InvalidInput("That business unit group or category is no longer in use.")
    if category.group_id != group.pk:
        raise InvalidInput(f"The category {category.name} does not belong to {group.name}.")
    if subcategory is not None:
        if subcategory.category_id != category.pk:
            raise InvalidInput(
                f"The subcategory {subcategory.name} does not belong to {category.name}."
            )
        if not subcategory.is_active:
            raise InvalidInput("That subcategory is no longer in use.")


def ticket_create(
    *,
    requester: User,
    title: str,
    description: str,
    group: BusinessUnitGroup,
    category: Category,
    subcategory: Subcategory | None = None,
    priority: str | None = None,
    idempotency_key: uuid.UUID | None = None,
    form_values: dict | None = None,
) -> Ticket:
    """Raise a ticket, route it, and record creation and routing in the history.

    With an `idempotency_key` the same form submitted twice returns the first ticket.
    Priority left empty takes the mapping's default (else medium). `form_values` answer
    the classification's request form; they are checked by its one validator
    (`InvalidFormValues` names each field refused, and nothing is written). Left out
    (`None`), as email in does, the ticket starts with no answers.
    """
    title = _clean_text(title, label="Title", max_length=TITLE_MAX)
    description = _clean_text(description, label="Description", max_length=BODY_MAX)
    _check_classification(group, category, subcategory)
    form_values = _valid_form_values(category, subcategory, form_values)
    if priority and priority not in Priority.values:
        raise InvalidInput("Choose a priority from the list.")
    # A resend of the form (its key on a ticket already) is found by the ticket's INSERT
    # itself (`_insert`: written unless the key is held), which then undoes the little this
    # send did before it. An INSERT refused by the unique index would take the next id, the
    # ticket's number, leaving a gap in TKT numbers at every double-click; the unique index
    # stays the answer when the same form races with itself.
    if idempotency_key is not None and not isinstance(idempotency_key, uuid.UUID):
        idempotency_key = uuid.UUID(str(idempotency_key))  # a form's key may arrive as text
    # Twice at most: the ticket that held the key may be gone before it is read (erased),
    # and then this send is the first again.
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _create(
                    requester, title, description, group, category, subcategory, priority,
                    idempotency_key, form_values,
                )  # fmt: skip
        except (_AlreadySent, IntegrityError) as refused:
            existing = _sent_with(requester, idempotency_key) if idempotency_key else None
            if existing is not None:
                return existing
            if isinstance(refused, IntegrityError):
                raise
            if attempt == 2:
                held = "the form's key is held by a ticket that cannot be read"
                raise IntegrityError(held) from None
    raise AssertionError("unreachable")  # the loop returns or raises


class _AlreadySent(Exception):  # noqa: N818 (a signal to undo, not an error)
    """The form's key is on a ticket already: `ticket_create` answers with that ticket."""


def _sent_with(requester: User, key: uuid.UUID) -> Ticket | None:
    """The ticket `requester` raised with the form that carried `key`, if any."""
    return Ticket.objects.filter(requester=requester, idempotency_key=key).first()


def _valid_form_values(
    category: Category, subcategory: Subcategory | None, values: dict[str, Any] | None
) -> dict[str, Any]:
    """`None`: the channel cannot ask the form (email in), so the ticket starts without
    answers and people fill them in later; anything given is checked in full."""
    if values is None:
        return {}
    form = request_forms.form_for(category.pk, subcategory.pk if subcategory else None)
    try:
        return form.validate(values)
    except request_forms.FormValuesInvalid as error:
        raise InvalidFormValues(error.errors) from None


def _form_value_code(value: object) -> str:
    """How a form value is written in the history: its JSON (codes, not labels);
    portal/tickets/history.py reads it back with the field's labels."""
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _create(
    requester: User,
    title: str,
    description: str,
    group: BusinessUnitGroup,
    category: Category,
    subcategory: Subcategory | None,
    priority: str | None,
    key: uuid.UUID | None,
    values: dict[str, Any],
) -> Ticket:
    now = timezone.now()
    subcategory_id = subcategory.pk if subcategory else None
    if approval_rules.needs_approval(category.pk, subcategory_id):
        return _create_awaiting(
            requester, title, description, group, category, subcategory, priority, key,
            values, now,
        )  # fmt: skip
    ticket = Ticket(
        title=title,
        description=description,
        requester=requester,
        group=group,
        category=category,
        subcategory=subcategory,
        priority=priority or "",
        status=Status.NEW,
        created_at=now,
        updated_at=now,
        idempotency_key=key,
        form_values=values,
    )
    history = _History(ticket, requester, now, new=True)
    holder = _route_new(ticket, history, save=lambda: _insert(ticket))
    history.save()
    notify.ticket_created(ticket, actor=requester, holder=holder, new=True)
    return ticket


def _insert(ticket: Ticket) -> None:
    """The new ticket's row, with the statement written once per process (`inserts`):
    what `save(force_insert=True)` stores and reads back (its id, the generated sort
    columns), for about half of that call's CPU. Tickets send no save signals.

    With an idempotency key, written only when no ticket of its requester holds the key
    (`_AlreadySent` otherwise), in the same statement: no read before it, no number taken."""
    using = router.db_for_write(Ticket)
    if ticket.idempotency_key is None:
        inserts.insert([ticket], using=using)
    elif not inserts.insert_unless_held(
        ticket, unless=("requester", "idempotency_key"), using=using
    ):
        raise _AlreadySent


def _route_new(ticket: Ticket, history: _History, *, save: Callable[[], None]) -> routing.Holder:
    """Route a ticket as a new one: team by the mapping, holder by the chain, SLA targets,
    and the creation and routing events. `save` writes the row (an INSERT for a new ticket,
    an UPDATE for one released by its approvers) between the targets and the events."""
    decision = routing.route(
        category_id=ticket.category_id, subcategory_id=ticket.subcategory_id, group=ticket.group
    )
    holder = decision.holder
    ticket.priority = ticket.priority or decision.default_priority
    ticket.team = decision.team
    _hold(ticket, holder)
    if history.before is None:
        sla.recompute(ticket)  # the targets are part of the ticket from its first row
    save()
    if history.before is None:
        history.add(Kind.CREATED, new=ticket.title)
    history.add(
        Kind.ROUTED,
        field="team",
        new=decision.team.name if decision.team else "",
        reason=decision.team_reason,
        actor=None,
    )
    record_holder(history, holder, old="")
    return holder


def _create_awaiting(
    requester: User,
    title: str,
    description: str,
    group: BusinessUnitGroup,
    category: Category,
    subcategory: Subcategory | None,
    priority: str | None,
    key: uuid.UUID | None,
    values: dict[str, Any],
    now: dt.datetime,
) -> Ticket:
    """A ticket whose classification needs approval: no team, nobody assigned, clocks
    paused from the start. The approvals app (told by `signals.ticket_changed`, in this
    transaction) opens its first step; `approval_services.ticket_release` routes it."""
    mapping = find_mapping(
        category_id=category.pk, subcategory_id=subcategory.pk if subcategory else None
    )
    ticket = Ticket(
        title=title,
        description=description,
        requester=requester,
        group=group,
        category=category,
        subcategory=subcategory,
        priority=priority or (mapping and mapping.default_priority) or Priority.MEDIUM,
        status=Status.AWAITING,
        created_at=now,
        updated_at=now,
        idempotency_key=key,
        form_values=values,
        sla_paused_at=now,
    )
    sla.recompute(ticket)  # the policy is known; the due times wait for the approval
    _insert(ticket)
    history = _History(ticket, requester, now, new=True)
    history.add(Kind.CREATED, new=ticket.title)
    history.save()
    notify.ticket_awaiting(ticket)
    return ticket


def _hold(ticket: Ticket, holder: routing.Holder) -> None:
    """The holder as the ticket's assignee: the account routing read with it when there is
    one, so the notices that follow do not read that row again."""
    if holder.assignee is not None:
        ticket.assignee = holder.assignee
    else:
        ticket.assignee_id = holder.assignee_id


def record_holder(history: _History, holder: routing.Holder, *, old: str) -> None:
    """The routing chain's outcome as one system event: assigned, or waiting for the people
    told (named, with the reason)."""
    if holder.waiting:
        history.add(
            Kind.WAITING, field="assignee", old=old, new=holder.told_names if holder.told else "",
            reason=holder.reason, actor=None,
        )  # fmt: skip
    else:
        history.add(
            Kind.ASSIGNED, field="assignee", old=old, new=holder.assignee_name,
            reason=holder.reason, actor=None,
        )  # fmt: skip


@transaction.atomic
def ticket_reroute(*, ticket: Ticket, cause: str) -> routing.Holder:
    """Send an open ticket through the routing chain again, by the system, because `cause`
    (e.g. "Alex Agent left Team A"): the people who could act on it went away.

    `ticket` must be a locked row (the callers in `rerouting.py` select them FOR UPDATE).
    Writes one system event with the cause and the chain's reason, and tells whoever the
    chain lands on. The team does not change: moving team stays a person's decision.
    """
    now = timezone.now()
    holder = routing.holder_for(team=ticket.team, group=ticket.group)
    holder = dataclasses.replace(holder, reason=f"{cause}. {holder.reason}")
    history = _History(ticket, None, now)
    record_holder(history, holder, old=_name(ticket.assignee))
    _hold(ticket, holder)
    _save(ticket, {"assignee"}, now)
    history.save()
    notify.ticket_routed(ticket, actor=None, holder=holder)
    return holder


@transaction.atomic
def ticket_take(*, actor: User, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """The actor assigns the ticket to themself; a new ticket goes to In progress."""
    ticket = _lock(actor, ticket, expected_version)
    if not access.can_take(actor, ticket):
        raise ActionForbidden(_why_not_take(actor, ticket))
    now = timezone.now()
    history = _History(ticket, actor, now)
    history.add(
        Kind.ASSIGNED,
        field="assignee",
        old=_name(ticket.assignee),
        new=_name(actor),
        reason="Taken.",
    )
    fields = {"assignee"}
    previous, ticket.assignee = ticket.assignee, actor
    started = ticket.status == Status.NEW
    if started:
        history.add(Kind.STATUS, field="status", old=Status.NEW, new=Status.IN_PROGRESS)
        ticket.status = Status.IN_PROGRESS
        fields.add("status")
        _first_response(ticket, actor, now, fields)
    _save(ticket, fields, now)
    history.save()
    if started:  # the requester learns someone is on it; nobody needs telling they took it
        notify.ticket_status_changed(ticket, actor=actor, old_status=Status.NEW)
    notify.ticket_taken(ticket, actor=actor, previous=previous)
    return ticket


def _why_not_take(actor: User, ticket: Ticket) -> str:
    if not ticket.is_open:
        return f"{ticket.number} is {ticket.get_status_display().lower()}; it cannot be taken."
    if ticket.assignee_id == actor.pk:
        return f"{ticket.number} is already yours."
    return "Only members of the ticket's team can take it."


@transaction.atomic
def ticket_assign(
    *,
    actor: User,
    ticket: Ticket,
    assignee: User | None,
    reason: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """A lead, SPOC or admin gives the ticket to an active member of its team (or nobody)."""
    ticket = _lock(actor, ticket, expected_version)
    if not access.can_assign(actor, ticket):
        raise ActionForbidden("Only the team's lead, the group's SPOC or an admin can assign.")
    if assignee is not None:
        if ticket.team_id is None:
            raise InvalidInput("Move the ticket to a team before assigning it to someone.")
        member = TeamMember.objects.filter(
            team_id=ticket.team_id, user=assignee, is_active=True, user__is_active=True
        ).exists()
        if not member:
            raise InvalidInput(f"{_name(assignee)} is not an active member of {ticket.team}.")
    if (assignee.pk if assignee else None) == ticket.assignee_id:
        raise InvalidInput("The ticket is already assigned that way.")
    now = timezone.now()
    history = _History(ticket, actor, now)
    history.add(
        Kind.ASSIGNED,
        field="assignee",
        old=_name(ticket.assignee),
        new=_name(assignee),
        reason=reason.strip(),
    )
    previous, ticket.assignee = ticket.assignee, assignee
    _save(ticket, {"assignee"}, now)
    history.save()
    notify.ticket_assigned(ticket, actor=actor, previous=previous, reason=reason.strip())
    return ticket


@transaction.atomic
def ticket_move_team(
    *,
    actor: User,
    ticket: Ticket,
    team: Team,
    reason: str,
    expected_version: int | None = None,
) -> Ticket:
    """Hand the ticket to another team; the routing chain picks its holder (routing.py)."""
    ticket = _lock(actor, ticket, expected_version)
    if not access.can_move_team(actor, ticket):
        raise ActionForbidden("Only people working this ticket can move it to another team.")
    reason = _clean_text(reason, label="The reason for moving", max_length=1000)
    if not team.is_active:
        raise InvalidInput(f"{team.name} is no longer active.")
    if team.pk == ticket.team_id:
        raise InvalidInput(f"The ticket is already with {team.name}.")
    now = timezone.now()
    history = _History(ticket, actor, now)
    history.add(
        Kind.TEAM, field="team", old=ticket.team.name if ticket.team else "", new=team.name,
        reason=reason,
    )  # fmt: skip
    holder = routing.holder_for(team=team, group=ticket.group)
    record_holder(history, holder, old=_name(ticket.assignee))
    previous = ticket.assignee
    ticket.team = team
    _hold(ticket, holder)
    _save(ticket, {"team", "assignee"}, now)
    history.save()
    notify.ticket_assigned(ticket, actor=actor, previous=previous, reason=reason)
    if holder.waiting:  # nobody in the team to take it: the SPOCs or triage are told why
        notify.ticket_routed(ticket, actor=actor, holder=holder)
    return ticket


def _refuse_status_change(actor: User, ticket: Ticket, status: str, now: dt.datetime) -> None:
    if status not in Status.values:
        raise InvalidInput("Choose a status from the list.")
    roles = access.ticket_roles(actor, ticket)
    if not transitions.is_allowed(roles, ticket, status, now=now):
        raise ActionForbidden(
            f"You cannot change {ticket.number} from {ticket.get_status_display()} to "
            f"{Status(status).label}."
        )


def ticket_change_status_check(
    *, actor: User, ticket: Ticket, status: str, expected_version: int | None = None
) -> Ticket:
    """Raise what `ticket_change_status` would refuse with, writing nothing: a confirmation
    step (cancelling) asks only about a change that would be made. Returns the current row."""
    ticket = access.get_ticket_for_user(actor, ticket.number)
    if expected_version is not None and ticket.version != expected_version:
        raise _conflict(ticket, expected_version)
    _refuse_status_change(actor, ticket, status, timezone.now())
    return ticket


def open_children(ticket: Ticket) -> list[str]:
    """Numbers of `ticket`'s child tickets not yet resolved, closed or cancelled: all of
    them, seen by the actor or not, since the rule holds whoever resolves (at most 50)."""
    done = [Status.RESOLVED, Status.CLOSED, Status.CANCELLED]
    rows = Ticket.objects.filter(parent=ticket).exclude(status__in=done).order_by("id")
    return [format_number(pk) for pk in rows.values_list("pk", flat=True)[:50]]


def _children_note(ticket: Ticket, status: str, reason: str, *, with_open_children: bool) -> str:
    """A parent is not resolved (or closed unresolved) while a child is open, unless the
    person says so: then the history's reason records it. Returns the reason to write."""
    finishing = status in (Status.RESOLVED, Status.CLOSED) and ticket.status not in (
        Status.RESOLVED,
        Status.CLOSED,
    )
    if not finishing:
        return reason
    children = open_children(ticket)
    if not children:
        return reason
    listed = ", ".join(children)
    if not with_open_children:
        raise OpenChildren(
            f"{ticket.number} has open child tickets ({listed}). Resolve them first, or "
            "tick “even though child tickets are open”."
        )
    note = f"Done even though child tickets were open: {listed}."
    return f"{reason} {note}".strip()


@transaction.atomic
def ticket_change_status(
    *,
    actor: User,
    ticket: Ticket,
    status: str,
    reason: str = "",
    expected_version: int | None = None,
    with_open_children: bool = False,
) -> Ticket:
    """Move the ticket through its lifecycle as the transition table allows this actor.

    A parent with open child tickets is not resolved or closed unless
    `with_open_children` (the page's tick box), which the history's reason records."""
    ticket = _lock(actor, ticket, expected_version)
    now = timezone.now()
    _refuse_status_change(actor, ticket, status, now)
    reason = _children_note(ticket, status, reason.strip(), with_open_children=with_open_children)
    history = _History(ticket, actor, now)
    history.add(
        Kind.STATUS,
        field="status",
        old=ticket.status,
        new=status,
        reason=reason.strip(),
    )
    fields = {"status"}
    if status == Status.RESOLVED:
        ticket.resolved_at = now
        fields.add("resolved_at")
    elif ticket.status == Status.RESOLVED and status != Status.CLOSED:
        # Reopened: the resolution no longer stands.
        ticket.resolved_at = None
        fields.add("resolved_at")
    if status == Status.CLOSED:
        ticket.closed_at = now
        fields.add("closed_at")
    elif ticket.status == Status.CLOSED:
        ticket.closed_at = None
        fields.add("closed_at")
    if status not in (Status.CANCELLED, Status.CLOSED):
        _first_response(ticket, actor, now, fields)
    old_status, ticket.status = ticket.status, status
    fields |= sla.status_changed(ticket, old_status, now)  # pause, resume or clear the clocks
    _save(ticket, fields, now)
    history.save()
    notify.ticket_status_changed(ticket, actor=actor, old_status=old_status, reason=reason.strip())
    return ticket


class _Unset(Enum):
    UNSET = "unset"


_UNSET = _Unset.UNSET  # "not given", where None means "none" (no subcategory)


@transaction.atomic
def ticket_update(
    *,
    actor: User,
    ticket: Ticket,
    expected_version: int,
    title: str | None = None,
    description: str | None = None,
    priority: str | None = None,
    category: Category | None = None,
    subcategory: Subcategory | None | _Unset = _UNSET,
    form_values: dict[str, Any] | None = None,
) -> Ticket:
    """Edit title, description, priority, classification or request-form values against
    the version the editor saw.

    If the ticket changed since (`expected_version` is stale) nothing is written and
    `EditConflict` lists what changed. The team is not re-routed: moving team is explicit.
    `form_values` answer the (new) classification's form in full; values of fields it no
    longer asks (retired, or from the old classification) are kept as they were.
    """
    ticket = _lock(actor, ticket, expected_version)
    if not access.can_edit(actor, ticket):
        raise ActionForbidden("Only people working this ticket can edit it.")
    now = timezone.now()
    history = _History(ticket, actor, now)
    fields: set[str] = set()
    if title is not None:
        title = _clean_text(title, label="Title", max_length=TITLE_MAX)
        if title != ticket.title:
            history.add(Kind.EDITED, field="title", old=ticket.title, new=title)
            ticket.title = title
            fields.add("title")
    if description is not None:
        description = _clean_text(description, label="Description", max_length=BODY_MAX)
        if description != ticket.description:
            # The old text stays in the history: edits never destroy what was written.
            history.add(Kind.EDITED, field="description", old=ticket.description, new=description)
            ticket.description = description
            fields.add("description")
    if priority is not None and priority != ticket.priority:
        if priority not in Priority.values:
            raise InvalidInput("Choose a priority from the list.")
        history.add(
            Kind.EDITED,
            field="priority",
            old=ticket.priority,
            new=priority,
        )
        ticket.priority = priority
        fields.add("priority")
    new_category = category or ticket.category
    new_subcategory = ticket.subcategory if subcategory is _UNSET else subcategory
    if new_category.pk != ticket.category_id or (
        (new_subcategory.pk if new_subcategory else None) != ticket.subcategory_id
    ):
        _check_classification(new_category.group, new_category, new_subcategory)
        old = _classification(ticket.group, ticket.category, ticket.subcategory)
        new = _classification(new_category.group, new_category, new_subcategory)
        history.add(Kind.EDITED, field="classification", old=old, new=new)
        ticket.group, ticket.category, ticket.subcategory = (
            new_category.group,
            new_category,
            new_subcategory,
        )
        fields |= {"group", "category", "subcategory"}
    if form_values is not None:
        fields |= _update_form_values(ticket, form_values, history)
    if fields & {"priority", "category"}:
        fields |= _sla_recompute(ticket, history)
    if not fields:
        return ticket
    _save(ticket, fields, now)
    history.save()
    return ticket


def _update_form_values(ticket: Ticket, values: dict, history: _History) -> set[str]:
    form = request_forms.form_for(ticket.category_id, ticket.subcategory_id)
    try:
        answered = form.validate(values)
    except request_forms.FormValuesInvalid as error:
        raise InvalidFormValues(error.errors) from None
    old = ticket.form_values or {}
    new = {key: value for key, value in old.items()}
    for field in form.fields:
        before, after = old.get(field.key), answered.get(field.key)
        if before == after:
            continue
        history.add(
            Kind.EDITED, field=f"form:{field.key}", old=_form_value_code(before),
            new=_form_value_code(after),
        )  # fmt: skip
        if after is None:
            new.pop(field.key, None)
        else:
            new[field.key] = after
    if new == old:
        return set()
    ticket.form_values = new
    return {"form_values"}


def _sla_recompute(ticket: Ticket, history: _History) -> set[str]:
    """New targets after a priority or classification change; the history shows old → new."""
    old = {target.key: sla.describe(ticket, target) for target in sla.TARGETS}
    changed = sla.recompute(ticket)
    for target in sla.TARGETS:
        new = sla.describe(ticket, target)
        if new != old[target.key]:
            history.add(
                Kind.EDITED,
                field=f"{target.label.lower()} due",
                old=old[target.key],
                new=new,
                reason="Service level recomputed.",
            )
    return changed


def _classification(
    group: BusinessUnitGroup, category: Category, subcategory: Subcategory | None
) -> str:
    return " / ".join(str(part) for part in (group, category, subcategory) if part)


class CommentAdded(NamedTuple):
    """What `comment_add_or_replay` did: the comment, and whether it is the one already
    added with this idempotency key (`replayed`: a resend, nothing was written)."""

    comment: Comment
    replayed: bool = False


def comment_add(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    idempotency_key: uuid.UUID | None = None,
) -> Comment:
    """Add a public or internal comment (`_comment_add`).

    With an `idempotency_key` the same comment sent again (by its author, on the same
    ticket, with the same text and visibility) returns the first comment and writes
    nothing; the key sent with anything else is refused (`IdempotencyConflict`, 409).
    Two sends at once queue on the ticket's row lock, so the second finds the first; the
    unique index catches a key sent on two tickets at once.
    """
    return comment_add_or_replay(
        actor=actor, ticket=ticket, body=body, internal=internal, idempotency_key=idempotency_key
    ).comment


def comment_add_or_replay(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    idempotency_key: uuid.UUID | None = None,
) -> CommentAdded:
    """`comment_add`, saying whether the comment is a resend's first one (for callers that
    must not write anything else for a resend, as the files of the comment)."""
    # No read of the key before the insert: almost every send is the first, and the
    # unique index on (author, key) refuses a resend's insert, which rolls back everything
    # that send did. Only then is the first comment read and compared. A resend refused
    # because the ticket closed since is that first comment too, not a refusal (which
    # would ask them to raise a follow-up for nothing).
    locked: list[Ticket] = []  # the row `_comment_add` locked, for a resend's answer
    try:
        return _comment_add(
            actor=actor, ticket=ticket, body=body, internal=internal, key=idempotency_key,
            locked=locked,
        )  # fmt: skip
    except (IntegrityError, TicketClosed):
        replayed = _replay(
            actor, idempotency_key, ticket=locked[0] if locked else ticket, body=body,
            internal=internal,
        )  # fmt: skip
        if replayed is None:
            raise
        return replayed


_KEY_REUSED = (
    "This comment's request key was already used for a different comment. Nothing was "
    "added: reload the page (or send a new key) and write it again."
)


def comment_sent_with(author: User, key: uuid.UUID) -> Comment | None:
    """The comment `author` already sent with idempotency `key`, if any (keys are unique
    per author, on any ticket)."""
    return (
        access.system_read(Comment)
        .filter(author=author, idempotency_key=key)
        .select_related("author")
        .first()
    )


def _replay(
    actor: User, key: uuid.UUID | None, *, ticket: Ticket, body: str, internal: bool
) -> CommentAdded | None:
    """The comment `actor` already sent with `key`, if it is this one; None if none (or no
    key); `IdempotencyConflict` if the key went with another comment."""
    first = comment_sent_with(actor, key) if key is not None else None
    if first is None:
        return None
    body = (body or "").strip()  # as `_clean_text` stored it
    if (first.ticket_id, first.body, first.is_internal) != (ticket.pk, body, internal):
        raise IdempotencyConflict(_KEY_REUSED)
    if not ticket._state.adding:  # a row this send read (and locked), not an unread id
        first.ticket = ticket
    return CommentAdded(first, replayed=True)


@transaction.atomic
def _comment_add(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    internal: bool,
    key: uuid.UUID | None,
    locked: list[Ticket],
) -> CommentAdded:
    """Add a public or internal comment.

    A worker's first public comment starts the response clock; the requester, or a
    watcher, replying to a ticket on hold (waiting for them) puts it back in progress. The
    requester writing on a closed ticket reopens it within the reopen window; after it, or
    on a cancelled ticket, nothing is written and `TicketClosed` says to raise a follow-up
    (a comment there would reach nobody who acts on it). A watcher's comment changes no
    other status: on a closed or cancelled ticket it is refused the same way (reopening is
    the requester's).
    """
    ticket = _lock(actor, ticket, None)
    locked.append(ticket)  # unchanged until the comment's insert, the first write
    if internal and not access.can_comment_internal(actor, ticket):
        raise ActionForbidden("Only people working this ticket can add internal comments.")
    if not access.can_comment(actor, ticket):
        raise ActionForbidden("You cannot comment on this ticket.")
    body = _clean_text(body, label="The comment", max_length=BODY_MAX)
    now = timezone.now()
    reopens = False
    roles = access.ticket_roles(actor, ticket)
    if not internal and transitions.requester_only(roles):
        reopens = transitions.comment_reopens(ticket, now=now)
        if not reopens and ticket.status in transitions.FINAL:
            raise TicketClosed(_closed_message(ticket))
    elif not internal and roles == {access.WATCHER} and ticket.status in transitions.FINAL:
        raise TicketClosed(_closed_message(ticket, watcher=True))
    # The requester's side answering (its requester, or a watcher), not someone working it.
    answer = not internal and access.participant_only(roles)
    comment = Comment(
        ticket=ticket, author=actor, body=body, is_internal=internal, created_at=now,
        idempotency_key=key,
    )  # fmt: skip
    inserts.insert([comment])  # a statement made once (the ORM's insert cost more to build)
    history = _History(ticket, actor, now)
    history.add(
        Kind.COMMENTED, field="comment", new=str(comment.pk), internal=internal,
        reason="Internal comment." if internal else "",
    )  # fmt: skip
    fields: set[str] = set()
    bump = False
    if not internal:
        if not answer:
            _first_response(ticket, actor, now, fields)
        if ticket.status == Status.ON_HOLD and (actor.pk == ticket.requester_id or answer):
            history.add(
                Kind.STATUS,
                field="status",
                old=Status.ON_HOLD,
                new=Status.IN_PROGRESS,
                reason=(
                    "The requester replied."
                    if actor.pk == ticket.requester_id
                    else "A watcher replied."
                ),
            )
            ticket.status = Status.IN_PROGRESS
            fields.add("status")
            fields |= sla.status_changed(ticket, Status.ON_HOLD, now)  # the clocks resume
            bump = True
        if reopens:
            history.add(
                Kind.STATUS,
                field="status",
                old=ticket.status,
                new=Status.IN_PROGRESS,
                reason="The requester wrote after it was closed.",
            )
            old_status, ticket.status = ticket.status, Status.IN_PROGRESS
            ticket.resolved_at = ticket.closed_at = None
            fields |= {"status", "resolved_at", "closed_at"}
            fields |= sla.status_changed(ticket, old_status, now)
            bump = True
    # Comments do not bump the version: an editor's form is not stale because of a comment.
    _save(ticket, fields, now, bump=bump)
    history.save()
    notify.comment_added(ticket, comment, actor=actor, reopened=reopens)
    return CommentAdded(comment)


@transaction.atomic
def comment_add_unverified(*, author: User, ticket: Ticket, body: str, source: str) -> Comment:
    """An internal note from someone who may not see the ticket (an email reply from a
    person it was forwarded to): for the people working it to read and act on, never shown
    to the requester, and it changes nothing else (no status, no response clock).

    `source` says where it came from (e.g. "email"); the history names it.
    """
    ticket = access.system_read(Ticket).select_for_update(of=("self",)).get(pk=ticket.pk)
    body = _clean_text(body, label="The note", max_length=BODY_MAX)
    now = timezone.now()
    comment = Comment.objects.create(
        ticket=ticket, author=author, body=body, is_internal=True, created_at=now
    )
    history = _History(ticket, author, now)
    history.add(
        Kind.COMMENTED, field="comment", new=str(comment.pk), internal=True,
        reason=f"Unverified: by {source} from someone who cannot see this ticket.",
    )  # fmt: skip
    _save(ticket, set(), now, bump=False)
    history.save()
    notify.comment_added(ticket, comment, actor=author)
    return comment


def _closed_message(ticket: Ticket, *, watcher: bool = False) -> str:
    if ticket.status == Status.CANCELLED:
        why = f"{ticket.number} was cancelled"
    elif watcher:
        why = f"{ticket.number} is closed and only its requester's reply reopens it"
    else:
        why = (
            f"{ticket.number} was closed more than {transitions.REOPEN_WINDOW.days} days "
            "after it was resolved"
        )
    return (
        f"{why}, so a comment would reach nobody. Nothing was added: raise a follow-up "
        "ticket instead; it links back to this one."
    )


def ticket_watch(*, actor: User, ticket: Ticket, watch: bool = True) -> bool:
    """Start (or stop) telling `actor` about status changes and public comments.

    Anyone who can see the ticket may watch it; returns whether anything changed.
    Watching is not a change to the ticket: no history event, no version bump.
    """
    ticket = access.get_ticket_for_user(actor, ticket.number)
    watching = ticket.watchers.filter(pk=actor.pk).exists()
    if watch == watching:
        return False
    if watch:
        ticket.watchers.add(actor)
    else:
        ticket.watchers.remove(actor)
    return True
