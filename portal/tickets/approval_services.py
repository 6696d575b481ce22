"""What an approval does to its ticket (the approvals app decides; this module writes).

The approvals app sits above tickets: it calls these inside its own transaction, so a
decision, its history event, the ticket's new status and the notices commit together.
- `ticket_approval_note`: one history event per step asked, decided or reminded;
- `ticket_release`: the last step approved: the ticket becomes New and is routed exactly
  as a new ticket is (mapping, routing chain, notices), its SLA clocks start counting;
- `ticket_reject`: a step rejected: the ticket closes with the approver's reason.
"""

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.tickets import access, notify, sla
from portal.tickets.errors import InvalidInput
from portal.tickets.models import Status, Ticket, TicketEvent
from portal.tickets.services import _History, _route_new, _save

Kind = TicketEvent.Kind
NOTES = frozenset({"requested", "approved", "rejected", "reminded", "skipped", "reassigned"})


def _awaiting(ticket_id: int) -> Ticket:
    """The ticket's row, locked; refused unless it is still awaiting approval."""
    ticket = (
        access.system_read(Ticket)
        .select_for_update(of=("self",))
        .select_related("group", "category", "subcategory", "requester")
        .get(pk=ticket_id)
    )
    if ticket.status != Status.AWAITING:
        raise InvalidInput(f"{ticket.number} is no longer awaiting approval.")
    return ticket


@transaction.atomic
def ticket_approval_note(
    *, ticket_id: int, actor: User | None, note: str, step: str, reason: str = ""
) -> None:
    """Write "asked / approved / rejected / reminded" for `step` (its label, e.g. "Step 1
    of 2 · the requester's manager") in the history; `actor` None is the portal."""
    if note not in NOTES:
        raise InvalidInput(f"Unknown approval note {note!r}.")
    ticket = access.system_read(Ticket).select_for_update(of=("self",)).get(pk=ticket_id)
    now = timezone.now()
    history = _History(ticket, actor, now)
    history.add(Kind.APPROVAL, field="approval", old=step, new=note, reason=reason)
    _save(ticket, set(), now, bump=False)  # a note does not make an editor's form stale
    history.save()


@transaction.atomic
def ticket_release(*, ticket_id: int, actor: User | None) -> Ticket:
    """Every step approved: New, routed as a new ticket, the clocks counting from now on
    (the time it waited for approval is a pause, like On hold)."""
    ticket = _awaiting(ticket_id)
    now = timezone.now()
    history = _History(ticket, actor, now)
    history.add(
        Kind.STATUS, field="status", old=Status.AWAITING, new=Status.NEW, reason="Approved."
    )
    ticket.status = Status.NEW
    fields = {"status", "team", "assignee", "priority"}
    fields |= sla.status_changed(ticket, Status.AWAITING, now)
    holder = _route_new(ticket, history, save=lambda: _save(ticket, fields, now))
    history.save()
    # Told as a new ticket is: whoever routing landed on, the SPOCs, and the requester
    # (the confirmation says who has it now).
    notify.ticket_created(ticket, actor=None, holder=holder)
    return ticket


@transaction.atomic
def ticket_reject(*, ticket_id: int, actor: User, reason: str) -> Ticket:
    """A step rejected: the ticket closes, the approver's reason on the status event (the
    requester's notice quotes it)."""
    ticket = _awaiting(ticket_id)
    now = timezone.now()
    history = _History(ticket, actor, now)
    reason = f"Rejected: {reason}"
    history.add(Kind.STATUS, field="status", old=Status.AWAITING, new=Status.CLOSED, reason=reason)
    ticket.status = Status.CLOSED
    ticket.closed_at = now
    fields = {"status", "closed_at"}
    fields |= sla.status_changed(ticket, Status.AWAITING, now)
    _save(ticket, fields, now)
    history.save()
    notify.ticket_status_changed(ticket, actor=actor, old_status=Status.AWAITING, reason=reason)
    return ticket
