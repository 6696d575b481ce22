"""Reading links: only those whose other end the viewer may see (one query)."""

from django.db.models import Q

from portal.links.models import INVERSE_LABELS, LinkKind, TicketLink
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
