"""Linking tickets. The person must work the ticket they link from and be able to see the
ticket they link to: a ticket they cannot see answers exactly like one that does not
exist (404), so linking never reveals a title or even that the number exists."""

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from portal.lib.errors import Conflict
from portal.links.models import LinkKind, TicketLink
from portal.links.selectors import links_for
from portal.tickets import access
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketError
from portal.tickets.models import TicketEvent


class LinkExists(TicketError, Conflict):  # type: ignore[misc]  # message: str vs lazy str
    """That link is there already: a `Conflict` with the tickets' state."""

    status_code = 409


@transaction.atomic
def ticket_link_add(*, actor, ticket, target_number: str, kind: str) -> TicketLink:
    if kind not in LinkKind.values:
        raise InvalidInput("Choose how the tickets are linked.")
    source = access.get_ticket_for_user(actor, ticket.number)  # 404 for outsiders
    if not access.is_worker(actor, source):
        raise ActionForbidden("Only people working this ticket can link it.")
    target = access.get_ticket_for_user(actor, target_number)  # 404: unknown or not theirs
    if target.pk == source.pk:
        raise InvalidInput("A ticket cannot be linked to itself.")
    if TicketLink.objects.filter(source=source, target=target, kind=kind).exists():
        raise LinkExists(f"{source.number} is already linked to {target.number} that way.")
    now = timezone.now()
    link = TicketLink.objects.create(
        source=source, target=target, kind=kind, created_by=actor, created_at=now
    )
    _event(source, actor, now, new=f"{LinkKind(kind).label} {target.number}")
    return link


def _event(ticket, actor, now, *, old: str = "", new: str = "") -> None:
    """An internal history row on the ticket linked from (numbers only, never titles);
    history.py reads it as "linked it: relates to TKT-000002". Links change nothing a
    person edits against, so the version stays."""
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.EDITED,
        field="link",
        old_value=old,
        new_value=new,
        is_internal=True,
        version=ticket.version,
        created_at=now,
    )


@transaction.atomic
def ticket_link_remove(*, actor, ticket, link_id: int) -> None:
    """Remove a link of `ticket` (either end) the actor may see both ends of."""
    source = access.get_ticket_for_user(actor, ticket.number)
    if not access.is_worker(actor, source):
        raise ActionForbidden("Only people working this ticket can unlink it.")
    link = next((row for row in links_for(actor, source) if row.pk == link_id), None)
    if link is None:
        raise Http404("No such link.")
    TicketLink.objects.filter(pk=link.pk).delete()
    _event(source, actor, timezone.now(), old=f"{link.label} {link.other.number}")
