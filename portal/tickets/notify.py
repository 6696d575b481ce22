"""Who is told what about a ticket. Called by the services, inside their transaction.

The notifications app delivers; this module decides. Rules (never the person who acted):
- created: the group's SPOCs, the assignee (or the team's leads while unassigned), and a
  confirmation to the requester;
- assigned / moved team: the new assignee (or the team's leads when it lands unassigned);
- status changed: the requester and watchers (a resolution carries the reopen link);
- public comment: requester, assignee and watchers; internal comment: the assignee and
  the team, never the requester (nor watchers);
- SLA at risk (80 % of a target used): the assignee; while unassigned, whoever would hand
  it out — the team's leads, or the group's SPOCs when no team is mapped; SLA breached:
  the team's leads and the group's SPOCs, nobody else.
  Both are sent by the escalation task (sla_jobs), once per ticket and target.
"""

from portal.catalog.models import TeamMember
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import notify
from portal.tickets.models import Status
from portal.tickets.transitions import REOPEN_WINDOW

REOPEN_DAYS = REOPEN_WINDOW.days


def _sample() -> dict:
    return {
        "number": "TKT-000123",
        "title": "Printer on floor 3 jams on every job",
        "text": "TKT-000123 is now Resolved: Printer on floor 3 jams on every job",
        "status": "Resolved",
        "old_status": "In progress",
        "priority": "High",
        "classification": "IT / Hardware / Printer",
        "requester_name": "Emma Employee",
        "actor_name": "Alex Agent",
        "team_name": "IT Service Desk",
        "body": "I replaced the fuser; please try again and tell me if it still jams.",
        "internal": False,
        "resolved": True,
        "reopen_days": REOPEN_DAYS,
        "target": "Resolution",
        "due": "2026-11-26 17:30",
        "policy": "Standard",
    }


KINDS = {
    kind.name: kind
    for kind in [
        Kind(
            "ticket_created",
            "A ticket arrives for me, my team or my group",
            "ticket_created",
            _sample,
        ),
        Kind("ticket_received", "Confirmation of a ticket I raised", "ticket_received", _sample),
        Kind(
            "ticket_assigned",
            "A ticket is assigned to me or lands in my team",
            "ticket_assigned",
            _sample,
        ),
        Kind(
            "ticket_status", "A ticket I raised or watch changes status", "ticket_status", _sample
        ),
        Kind(
            "ticket_comment",
            "A new comment on a ticket I am involved in",
            "ticket_comment",
            _sample,
        ),
        Kind(
            "sla_at_risk",
            "A ticket I work on or hand out is close to its SLA due time",
            "sla_at_risk",
            _sample,
        ),
        Kind(
            "sla_breached",
            "A ticket of my team or group missed its SLA (escalation)",
            "sla_breached",
            _sample,
        ),
    ]
}
for _kind in KINDS.values():
    register_kind(_kind)


def _context(ticket, actor, **extra) -> dict:
    classification = " / ".join(
        part.name for part in (ticket.group, ticket.category, ticket.subcategory) if part
    )
    return {
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.get_status_display(),
        "priority": ticket.get_priority_display(),
        "classification": classification,
        "requester_name": str(ticket.requester),
        "actor_name": str(actor) if actor else "The portal",
        "team_name": ticket.team.name if ticket.team_id else "",
        **extra,
    }


def _team(team_id, **only) -> list:
    """The team's active members (narrowed by `only`, e.g. `role=`) as users; one query."""
    if team_id is None:
        return []
    return [
        member.user
        for member in TeamMember.objects.select_related("user").filter(
            team_id=team_id, is_active=True, **only
        )
    ]


def _spocs(ticket) -> list:
    """The active SPOCs of the ticket's group."""
    return list(ticket.group.spocs.filter(is_active=True))


def _leads(team_id) -> list:
    return _team(team_id, role=TeamMember.Role.LEAD)


def _watchers(ticket) -> list:
    """Watchers who may still see the ticket (one may have moved on since watching)."""
    from portal.tickets.access import can_view

    return [user for user in ticket.watchers.filter(is_active=True) if can_view(user, ticket)]


def _send(ticket, *, recipients, kind, text, actor, key, **extra) -> None:
    notify(
        recipients=recipients,
        kind=kind,
        text=text,
        link=ticket.get_absolute_url(),
        context=_context(ticket, actor, text=text, **extra),
        event_key=f"ticket:{ticket.pk}:{key}",
        actor=actor,
        thread_key=f"ticket-{ticket.pk}",
    )


def ticket_created(ticket, *, actor) -> None:
    workers = _spocs(ticket)
    workers += [ticket.assignee] if ticket.assignee_id else _leads(ticket.team_id)
    _send(
        ticket,
        recipients=workers,
        kind="ticket_created",
        actor=actor,
        key="created",
        text=f"New ticket {ticket.number}: {ticket.title}",
    )
    # The confirmation goes to the requester even though they raised it.
    _send(
        ticket,
        recipients=[ticket.requester, *_watchers(ticket)],
        kind="ticket_received",
        actor=None,
        key="received",
        text=f"We received your ticket {ticket.number}: {ticket.title}",
    )


def ticket_assigned(ticket, *, actor) -> None:
    """After an assignment, a take or a move: tell whoever now holds the ticket."""
    if ticket.assignee_id:
        recipients, text = [ticket.assignee], f"{ticket.number} is assigned to you: {ticket.title}"
    else:
        recipients = _leads(ticket.team_id)
        where = ticket.team.name if ticket.team_id else "your team"
        text = f"{ticket.number} is waiting in {where}: {ticket.title}"
    _send(
        ticket,
        recipients=recipients,
        kind="ticket_assigned",
        actor=actor,
        key=f"assigned:v{ticket.version}",
        text=text,
    )


def ticket_status_changed(ticket, *, actor, old_status: str) -> None:
    resolved = ticket.status == Status.RESOLVED
    _send(
        ticket,
        recipients=[ticket.requester, *_watchers(ticket)],
        kind="ticket_status",
        actor=actor,
        key=f"status:v{ticket.version}",
        text=f"{ticket.number} is now {ticket.get_status_display()}: {ticket.title}",
        old_status=Status(old_status).label,
        resolved=resolved,
        reopen_days=REOPEN_DAYS,
    )


def comment_added(ticket, comment, *, actor) -> None:
    if comment.is_internal:
        # Internal notes stay with the people working the ticket: never the requester,
        # even one who is also a member of the team.
        recipients = [
            user
            for user in [ticket.assignee, *_team(ticket.team_id)]
            if user is not None and user.pk != ticket.requester_id
        ]
        text = f"Internal note on {ticket.number}: {ticket.title}"
    else:
        recipients = [ticket.requester, ticket.assignee, *_watchers(ticket)]
        text = f"New comment on {ticket.number}: {ticket.title}"
    _send(
        ticket,
        recipients=recipients,
        kind="ticket_comment",
        actor=actor,
        key=f"comment:{comment.pk}",
        text=text,
        body=comment.body,
        internal=comment.is_internal,
    )


def _sla_context(ticket, target) -> dict:
    from django.utils import timezone

    due = getattr(ticket, target.due)
    return {
        "target": target.label,
        "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "",
        "policy": ticket.sla_policy_name,
    }


def sla_at_risk(ticket, *, target) -> None:
    """80 % of a target used: the assignee may still make it. Unassigned, it can only be
    made if someone hands it out now, so the people who do: the team's leads, or the
    group's SPOCs for a ticket no team is mapped to (waiting until the breach would tell
    them too late)."""
    extra = _sla_context(ticket, target)
    if ticket.assignee_id:
        recipients = [ticket.assignee]
    elif ticket.team_id:
        recipients = _leads(ticket.team_id)
    else:
        recipients = _spocs(ticket)
    _send(
        ticket,
        recipients=recipients,
        kind="sla_at_risk",
        actor=None,
        key=f"sla:{target.key}:at_risk",
        text=f"{target.label} on {ticket.number} is due {extra['due']}: {ticket.title}",
        **extra,
    )


def sla_breached(ticket, *, target) -> None:
    """A target missed: escalate to the team's leads and the group's SPOCs."""
    extra = _sla_context(ticket, target)
    _send(
        ticket,
        recipients=[*_leads(ticket.team_id), *_spocs(ticket)],
        kind="sla_breached",
        actor=None,
        key=f"sla:{target.key}:breached",
        text=f"{target.label} on {ticket.number} missed its SLA ({extra['due']}): {ticket.title}",
        **extra,
    )
