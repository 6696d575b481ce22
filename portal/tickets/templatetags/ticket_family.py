"""`{% ticket_family ticket as family %}`: where a merged ticket went, what was merged into
this one, its parent and children, and what the viewer may do about them; the ticket page
shows them (`tickets/_family.html`) and offers the status form's "even though child
tickets are open" box when a child it lists is open.

One query for all of them, through the access layer: a related ticket the viewer cannot
see is left out, title and all."""

from django import template
from django.db.models import Q

from portal.tickets import access, transitions
from portal.tickets.models import Status

register = template.Library()


DONE = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


@register.simple_tag(takes_context=True)
def ticket_family(context, ticket) -> dict:
    user = context["request"].user
    ends = [pk for pk in (ticket.merged_into_id, ticket.parent_id) if pk is not None]
    related = list(
        access.visible_tickets(user)
        .filter(Q(merged_into=ticket) | Q(parent=ticket) | Q(pk__in=ends))
        .only("id", "title", "status", "merged_into_id", "parent_id")
        .order_by("id")
    )
    by_id = {row.pk: row for row in related}
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
