"""Merging a duplicate into another ticket (docs/working-faster.md#merging-tickets).

`ticket_merge` moves the duplicate's comments, files and watchers to the ticket that
survives, closes the duplicate with a pointer to it (`Ticket.merged_into`), makes the
duplicate's requester a watcher of the survivor and tells them, and writes who merged what
in the history of both. Internal comments stay internal: only their ticket changes.

Access: the person must work both tickets (`access.is_worker`), so a merge across
business units needs a role in each. A ticket they cannot see answers 404 exactly like a
number that does not exist, whichever of the two it is, and nothing is written.

Concurrency: both rows are locked in id order (lower id first), whichever is the
duplicate, so two merges of the same pair (A into B and B into A at once) queue on the
same first lock instead of deadlocking; the second then finds its duplicate (or its
survivor) closed by the first and is refused: nothing moves twice.

`services._History` and `services._save` are the ticket services' own history and save
steps, as in autoclose_services.py: a merge writes what any status change writes.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.lib.errors import Conflict
from portal.lib.http import NotVisible
from portal.tickets import access, notify, services, sla, transitions
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketError
from portal.tickets.models import (
    Attachment,
    Comment,
    Status,
    Ticket,
    TicketEvent,
    format_number,
    parse_number,
)

Kind = TicketEvent.Kind


class MergeRefused(TicketError, Conflict):  # type: ignore[misc]  # message: str vs lazy str
    """One of the two tickets is in a state a merge cannot change (closed, cancelled,
    merged already): a `Conflict` with the tickets' state."""

    status_code = 409


def _pair(actor: User, ticket: Ticket, into_number: str) -> tuple[Ticket, Ticket]:
    """Both tickets as `actor` sees them now (404 for either they cannot see); no lock.
    Refuses early what needs no lock to refuse, so a foreign number costs no row lock."""
    into_pk = parse_number(into_number)
    if into_pk is None:
        raise NotVisible("No such ticket.")
    duplicate = access.get_ticket_for_user(actor, ticket.number)
    survivor = access.get_ticket_for_user(actor, format_number(into_pk))
    if duplicate.pk == survivor.pk:
        raise InvalidInput("A ticket cannot be merged into itself.")
    return duplicate, survivor


def _locked(actor: User, first: Ticket, second: Ticket) -> tuple[Ticket, Ticket]:
    """The current rows of `first` and `second`, locked in id order, in the given order."""
    rows = {
        pk: access.get_ticket_for_user(actor, format_number(pk), write=True)
        for pk in sorted((first.pk, second.pk))
    }
    return rows[first.pk], rows[second.pk]


def merge_check(actor: User, duplicate: Ticket, survivor: Ticket) -> None:
    """Raise what `ticket_merge` refuses on these rows (the confirmation page asks it
    before offering the button; the service asks it again on the locked rows)."""
    if not (access.is_worker(actor, duplicate) and access.is_worker(actor, survivor)):
        raise ActionForbidden("Only people working both tickets can merge them.")
    if duplicate.merged_into_id is not None:
        raise MergeRefused(
            f"{duplicate.number} was merged into {format_number(duplicate.merged_into_id)} already."
        )
    for row in (duplicate, survivor):
        if row.status in transitions.FINAL:
            raise MergeRefused(
                f"{row.number} is {row.get_status_display().lower()}; "
                "only tickets still being worked on can be merged."
            )


def merge_preview(*, actor: User, ticket: Ticket, into_number: str) -> tuple[Ticket, Ticket]:
    """(duplicate, survivor) if `ticket_merge` would merge them now; raises otherwise.
    Writes nothing (the confirmation step)."""
    duplicate, survivor = _pair(actor, ticket, into_number)
    merge_check(actor, duplicate, survivor)
    return duplicate, survivor


@transaction.atomic
def ticket_merge(*, actor: User, ticket: Ticket, into_number: str) -> Ticket:
    """Merge `ticket` (the duplicate) into the ticket numbered `into_number`; returns the
    survivor. One transaction: everything moves, or nothing does."""
    duplicate, survivor = _pair(actor, ticket, into_number)
    duplicate, survivor = _locked(actor, duplicate, survivor)
    merge_check(actor, duplicate, survivor)
    now = timezone.now()
    moved = _move(duplicate, survivor, actor, now)
    _close(duplicate, survivor, actor, now)
    history = services._History(survivor, actor, now)
    history.add(Kind.MERGED, field="merged_from", old=duplicate.number, reason=_summary(moved))
    # Comments moving in do not make an editor's form stale (as with any comment).
    services._save(survivor, set(), now, bump=False)
    history.save()
    notify.ticket_merged(duplicate, survivor, actor=actor)
    return survivor


def _move(duplicate: Ticket, survivor: Ticket, actor: User, now: dt.datetime) -> dict[str, int]:
    """Comments (with their files), the other files and the watchers go to the survivor;
    the duplicate's description comes along as an internal note. Counts what moved."""
    comments = access.system_read(Comment).filter(ticket=duplicate)
    internal = comments.filter(is_internal=True).count()
    moved = {"comments": comments.update(ticket=survivor), "internal": internal}
    moved["files"] = access.system_read(Attachment).filter(ticket=duplicate).update(ticket=survivor)
    # The requester of the duplicate follows the survivor from now on; the survivor's
    # own requester is told as such and needs no watch.
    watchers = {user.pk for user in duplicate.watchers.all()} | {duplicate.requester_id}
    watchers -= {survivor.requester_id}
    watchers -= set(survivor.watchers.filter(pk__in=watchers).values_list("pk", flat=True))
    survivor.watchers.add(*watchers)
    moved["watchers"] = len(watchers)
    # The description is the duplicate's first message; it was never a comment, so it
    # would be lost with the duplicate closed. Internal: it was written to the people
    # working the duplicate, not to the survivor's requester.
    Comment.objects.create(
        ticket=survivor,
        author=actor,
        body=(
            f"Merged from {duplicate.number} (raised by {duplicate.requester}): "
            f"**{duplicate.title}**\n\n{duplicate.description}"
        )[: services.BODY_MAX],
        is_internal=True,
        created_at=now,
    )
    return moved


def _close(duplicate: Ticket, survivor: Ticket, actor: User, now: dt.datetime) -> None:
    reason = f"Merged into {survivor.number}."
    history = services._History(duplicate, actor, now)
    history.add(Kind.STATUS, field="status", old=duplicate.status, new=Status.CLOSED, reason=reason)
    history.add(Kind.MERGED, field="merged_into", new=survivor.number)
    old_status = duplicate.status
    duplicate.status, duplicate.closed_at, duplicate.merged_into = Status.CLOSED, now, survivor
    fields = {"status", "closed_at", "merged_into"} | sla.status_changed(duplicate, old_status, now)
    services._save(duplicate, fields, now)
    history.save()


def _summary(moved: dict[str, int]) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    comments = count(moved["comments"], "comment")
    if moved["internal"]:
        comments += f" ({moved['internal']} internal)"
    return (
        f"Moved {comments}, {count(moved['files'], 'file')} and "
        f"{count(moved['watchers'], 'watcher')}."
    )


# --- Parent/child ----------------------------------------------------------------------

# How far up a chain of parents the loop check looks (a deeper tree is refused).
MAX_DEPTH = 20


@transaction.atomic
def ticket_set_parent(*, actor: User, ticket: Ticket, parent_number: str) -> Ticket:
    """Make the ticket numbered `parent_number` the parent of `ticket` ("" removes the
    parent). The person works the child, and the parent too when setting one; a parent
    they cannot see is a 404 like a missing number. Writes a history row on the child
    (public: numbers only) and on the parent(s) concerned (internal); no version change,
    as for links."""
    child = access.get_ticket_for_user(actor, ticket.number)
    if not access.is_worker(actor, child):
        raise ActionForbidden("Only people working this ticket can change its parent.")
    if not parent_number.strip():
        return _remove_parent(actor, child)
    parent_pk = parse_number(parent_number)
    if parent_pk is None:
        raise NotVisible("No such ticket.")
    parent = access.get_ticket_for_user(actor, format_number(parent_pk))
    if parent.pk == child.pk:
        raise InvalidInput("A ticket cannot be its own parent.")
    child, parent = _locked(actor, child, parent)
    if not access.is_worker(actor, parent):
        raise ActionForbidden("Only people working both tickets can make one the other's parent.")
    if child.merged_into_id is not None or parent.merged_into_id is not None:
        raise MergeRefused("A merged ticket cannot be a parent or a child.")
    if child.parent_id == parent.pk:
        raise MergeRefused(f"{parent.number} is already the parent of {child.number}.")
    if _is_ancestor(child.pk, of=parent):
        raise InvalidInput(
            f"{child.number} is above {parent.number} already: that would be a loop."
        )
    now = timezone.now()
    old = format_number(child.parent_id) if child.parent_id else ""
    _parent_events(actor, child, now, old=old, new=parent.number)
    if child.parent_id:
        _child_event(actor, child.parent_id, now, old=child.number)
    _child_event(actor, parent.pk, now, new=child.number)
    child.parent = parent
    services._save(child, {"parent"}, now, bump=False)
    return child


def _remove_parent(actor: User, child: Ticket) -> Ticket:
    child = access.get_ticket_for_user(actor, child.number, write=True)
    if child.parent_id is None:
        raise InvalidInput(f"{child.number} has no parent.")
    now = timezone.now()
    _parent_events(actor, child, now, old=format_number(child.parent_id), new="")
    _child_event(actor, child.parent_id, now, old=child.number)
    child.parent = None
    services._save(child, {"parent"}, now, bump=False)
    return child


def _is_ancestor(pk: int, *, of: Ticket) -> bool:
    """Whether ticket `pk` is `of` or above it (walks up the parents, one query a step)."""
    current: int | None = of.pk
    for _step in range(MAX_DEPTH):
        if current is None:
            return False
        if current == pk:
            return True
        current = (
            access.system_read(Ticket)
            .filter(pk=current)
            .values_list("parent_id", flat=True)
            .first()
        )
    raise InvalidInput(f"Ticket trees are at most {MAX_DEPTH} levels deep.")


def _parent_events(actor: User, child: Ticket, now: dt.datetime, *, old: str, new: str) -> None:
    history = services._History(child, actor, now)
    history.add(Kind.PARENT, field="parent", old=old, new=new)
    history.save()


def _child_event(
    actor: User, parent_pk: int, now: dt.datetime, *, old: str = "", new: str = ""
) -> None:
    # Internal: the parent's requester learns nothing of other people's tickets.
    TicketEvent.objects.create(
        ticket_id=parent_pk, actor=actor, kind=Kind.PARENT, field="child", old_value=old,
        new_value=new, is_internal=True, created_at=now,
        version=access.system_read(Ticket).values_list("version", flat=True).get(pk=parent_pk),
    )  # fmt: skip
