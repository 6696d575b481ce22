"""From ticket changes to webhook events: the receivers of the tickets app's signals.

Both signals are sent inside the change's transaction, so the outbox rows written here
commit or roll back with the change. A change costs one query when no hook wants it (the
hooks that could); the payload is built only for the hooks that do.

Which history events become which webhook events:
- a new ticket: `ticket.created` (its routing and first assignment are part of it);
- an assignment (by routing, taking or assigning): `ticket.assigned`;
- a status change: `ticket.status_changed`;
- a comment: `ticket.commented`;
- SLA escalation: `ticket.sla_at_risk`, `ticket.sla_breached`.
Internal notes and the events about them go only to hooks marked `include_internal`.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from portal.notifications.services import absolute_url
from portal.tickets import access
from portal.tickets.models import Comment, TicketEvent
from portal.webhooks import services
from portal.webhooks.models import Event

Kind = TicketEvent.Kind
KIND_EVENTS = {
    Kind.ASSIGNED: Event.TICKET_ASSIGNED,
    Kind.STATUS: Event.TICKET_STATUS_CHANGED,
    Kind.COMMENTED: Event.TICKET_COMMENTED,
}


@dataclass
class Occurrence:
    """One webhook event about a ticket, before it is addressed to hooks."""

    event: str
    key: str  # identifies the event: one delivery per hook and key
    internal: bool = False
    extra: dict = field(default_factory=dict)
    comment_id: int | None = None


def ticket_data(ticket) -> dict:
    """What every event says about its ticket: codes, the people working it, a link.
    The requester is not named: a channel following a queue needs the work, not the person."""
    return {
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "team": ticket.team.name if ticket.team_id else None,
        "assignee": (ticket.assignee.full_name or ticket.assignee.email)
        if ticket.assignee_id
        else None,
        "url": absolute_url(ticket.get_absolute_url()),
    }


def occurrences(ticket, before, events) -> list[Occurrence]:
    if before is None:
        return [Occurrence(Event.TICKET_CREATED, f"ticket:{ticket.pk}:created")]
    found = []
    for index, history in enumerate(events):
        code = KIND_EVENTS.get(history.kind)
        if code is None:
            continue
        ref = history.pk or f"v{ticket.version}.{index}"
        occurrence = Occurrence(code, f"ticket:{ticket.pk}:event:{ref}", history.is_internal)
        if code == Event.TICKET_STATUS_CHANGED:
            occurrence.extra["change"] = {"from": history.old_value, "to": history.new_value}
        elif code == Event.TICKET_COMMENTED:
            occurrence.comment_id = int(history.new_value)
        found.append(occurrence)
    return found


def on_ticket_changed(sender, *, ticket, before, events, **kwargs) -> None:
    _queue(ticket, occurrences(ticket, before, events))


def on_sla_crossed(sender, *, ticket, target: str, line: str, **kwargs) -> None:
    event = Event.SLA_BREACHED if line == "breached" else Event.SLA_AT_RISK
    key = f"ticket:{ticket.pk}:sla:{target}:{line}"
    _queue(ticket, [Occurrence(event, key, extra={"sla": {"target": target, "line": line}})])


def _queue(ticket, found: list[Occurrence]) -> None:
    if not found:
        return
    hooks = services.hooks_for(team_id=ticket.team_id, events={o.event for o in found})
    if not hooks:
        return
    now = timezone.now()
    base = {"ticket": ticket_data(ticket)}
    comments = _comments([o.comment_id for o in found if o.comment_id])
    for occurrence in found:
        data = {**base, **occurrence.extra}
        if occurrence.comment_id:
            data["comment"] = comments[occurrence.comment_id]
        wanted = [
            hook
            for hook in hooks
            if occurrence.event in hook.events
            and (hook.include_internal or not occurrence.internal)
        ]
        services.deliveries_queue(
            hooks=wanted, event=occurrence.event, event_key=occurrence.key, data=data, now=now
        )


def _comments(ids: list[int]) -> dict[int, dict]:
    """The comments the events name, read by the portal itself (the hooks' flags decide
    who gets internal ones, above)."""
    if not ids:
        return {}
    rows = access.system_read(Comment).filter(pk__in=ids).select_related("author")
    return {
        c.pk: {
            "id": c.pk,
            "internal": c.is_internal,
            "author": (c.author.full_name or c.author.email) if c.author_id else None,
            "body": c.body,
        }
        for c in rows
    }
