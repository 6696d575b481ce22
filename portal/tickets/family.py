"""The ticket page's related tickets: where a merged ticket went, what was merged into
this one, its parent and children, and what the viewer may do about them (shown by
`tickets/_family.html` and `_merged_into.html`; the status form offers "even though child
tickets are open" when a child listed here is open). And, from the same query, whether the
viewer watches the ticket (the page's Watch button).

One query for all of them, through the access layer: a related ticket the viewer cannot
see is left out, title and all. The ticket's own row comes with them only to carry the
watch flag, which was a query of its own."""

from typing import Any

from django.db.models import Exists, OuterRef, Q

from portal.tickets import access, page_facts, transitions
from portal.tickets.models import Status, Ticket

DONE = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


def page_family(user: Any, ticket: Ticket) -> tuple[dict[str, Any], bool]:
    """(the family as the page shows it, whether `user` watches `ticket`).

    The page's own read of the ticket (`access.get_ticket_for_page`) says whether it
    watches it and whether anything was merged into it or is its child: a ticket with no
    family then costs no query here."""
    watched = ticket.__dict__.get("watched")
    if watched is not None and ticket.merged_into_id is None and ticket.parent_id is None:
        if page_facts.known_empty(ticket, "family"):
            return _family(user, ticket, []), watched
    ends = [pk for pk in (ticket.merged_into_id, ticket.parent_id) if pk is not None]
    watch_rows = Ticket.watchers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
    rows = list(
        access.visible_tickets(user)
        .filter(Q(merged_into=ticket) | Q(parent=ticket) | Q(pk__in=[*ends, ticket.pk]))
        .only("id", "title", "status", "merged_into_id", "parent_id")
        .annotate(watched=Exists(watch_rows))
        .order_by("id")
    )
    own = next((row for row in rows if row.pk == ticket.pk), None)
    # The page's ticket was read through the access layer in this request, so its row is
    # here; should it not be (changed in between), ask the access layer as before.
    if watched is None:
        watched = own.watched if own is not None else access.watches(user, ticket)
    return _family(user, ticket, [row for row in rows if row.pk != ticket.pk]), watched


def _family(user: Any, ticket: Ticket, related: list[Ticket]) -> dict[str, Any]:
    by_id: dict[int | None, Ticket] = {row.pk: row for row in related}
    worker = access.is_worker(user, ticket)
    children = [row for row in related if row.parent_id == ticket.pk]
    return {
        "merged_into": by_id.get(ticket.merged_into_id),
        "parent": by_id.get(ticket.parent_id),
        "merged_here": [row for row in related if row.merged_into_id == ticket.pk],
        "children": children,
        "open_children": [row for row in children if row.status not in DONE],
        "can_merge": worker and ticket.status not in transitions.FINAL,
        "can_set_parent": worker and ticket.merged_into_id is None,
    }
