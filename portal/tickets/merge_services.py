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
