"""Reading links: only those whose other end the viewer may see (one query)."""

from dataclasses import dataclass

from django.db.models import Q

from portal.links.models import INVERSE_LABELS, LinkKind, TicketLink
from portal.tickets import access
from portal.tickets.models import Ticket


def links_for(user, ticket) -> list[TicketLink]:
    """Links of `ticket` whose other ticket `user` may see, each with `.other` (the other
    ticket) and `.label` (how it reads from this side)."""
    visible = Ticket.objects.visible_to(user).values("pk")
    rows = (
        TicketLink.objects.filter(
            Q(source=ticket, target__in=visible) | Q(target=ticket, source__in=visible)
        )
        .select_related("source", "target")
        .order_by("created_at", "id")
    )
    result = []
    for link in rows:
        outgoing = link.source_id == ticket.pk
        link.other = link.target if outgoing else link.source
        link.label = LinkKind(link.kind).label if outgoing else INVERSE_LABELS[link.kind]
        result.append(link)
    return result


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link as the ticket page shows it: its id (the remove form), how it reads from
    this side, and the other ticket's number, title and status (a `Ticket` holding only
    those)."""

    pk: int
    label: str
    other: Ticket


def page_links(user, ticket) -> list[PageLink]:
    """What `links_for` returns, read for the ticket page: the columns it shows, in one
    query that tests the other ticket's visibility on its joined row (the access layer's
    `ticket_q` with a prefix) rather than against the viewer's whole visible set, a plan
    PostgreSQL took longer to make than to run."""
    reach = access.reach_of(user)
    rows = (
        TicketLink.objects.filter(
            (Q(source=ticket) & reach.ticket_q("target__"))
            | (Q(target=ticket) & reach.ticket_q("source__"))
        )
        .order_by("created_at", "id")
        .values_list(
            "id",
            "kind",
            "source_id",
            "target_id",
            "source__title",
            "source__status",
            "target__title",
            "target__status",
        )  # fmt: skip
    )
    result = []
    for pk, kind, source_id, target_id, *ends in rows:
        outgoing = source_id == ticket.pk
        other_id, title, status = (target_id, *ends[2:]) if outgoing else (source_id, *ends[:2])
        label = LinkKind(kind).label if outgoing else INVERSE_LABELS[kind]
        result.append(PageLink(pk, label, Ticket(id=other_id, title=title, status=status)))
    return result
