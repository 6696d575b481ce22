"""`{% ticket_family ticket %}`: where a merged ticket went, what was merged into this one,
its parent and children, and (for people working it) the merge and parent forms.

One query for all of them, through the access layer: a related ticket the viewer cannot
see is left out, title and all."""

from django import template
from django.db.models import Q

from portal.tickets import access, transitions

register = template.Library()


@register.inclusion_tag("tickets/_family.html", takes_context=True)
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
    return {
        "ticket": ticket,
        "merged_into": by_id.get(ticket.merged_into_id),
        "parent": by_id.get(ticket.parent_id),
        "merged_here": [row for row in related if row.merged_into_id == ticket.pk],
        "children": [row for row in related if row.parent_id == ticket.pk],
        "can_merge": worker and ticket.status not in transitions.FINAL,
        "can_set_parent": worker and ticket.merged_into_id is None,
        "csrf_token": context.get("csrf_token"),
    }
