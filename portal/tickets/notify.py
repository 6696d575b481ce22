"""Who is told what about a ticket. Called by the services, inside their transaction.

The notifications app delivers; this module decides. Rules (never the person who acted;
docs/notifications.md has them as a table):
- created: whoever the routing chain lands on, told why (`ticket_routed`): the assignee
  ("assigned to you", with the reason), or, when nobody in the team can take it, the
  group's SPOCs or the admins on triage duty ("waiting for you", with the gap); the
  group's other SPOCs get the routine "New ticket"; the requester a confirmation that
  says who has it or who was told;
- re-routed (a member left, the last SPOC went): whoever the chain now lands on;
- assigned / moved team: the new assignee (or the team's leads when it lands unassigned),
  with the reason; the previous assignee learns it is no longer theirs (also when someone
  takes it from them); a move to a team with nobody in it tells the SPOCs or triage
  instead (`ticket_routed`);
- status changed: the requester and watchers (a resolution carries the reopen link, the
  note is quoted); the holder (`_holders`) when someone else changed it, and when the
  requester reopens, cancels or confirms an unassigned ticket, the team's leads;
- public comment: requester, assignee and watchers, and the team's leads when the
  requester writes on an unassigned ticket; internal comment: the assignee and the team,
  never the requester (nor watchers);
- SLA at risk (80 % of a target used): the assignee; while unassigned, whoever would hand
  it out — the team's leads, or the group's SPOCs when no team is mapped; SLA breached:
  the team's leads and the group's SPOCs, nobody else.
  Both are sent by the escalation task (sla_jobs), once per ticket and target.

Texts (the in-app line and the email subject) come from `TEXTS`, so the admin's template
previews show exactly the subject each kind is sent with.
"""

from django.db import router

from portal.catalog.models import TeamMember
from portal.catalog.selectors import MASTER_ROWS, active_spocs, attach_master_rows
from portal.lib import compiled
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import Message, notify_many
from portal.tickets.models import Status
from portal.tickets.transitions import REOPEN_WINDOW

REOPEN_DAYS = REOPEN_WINDOW.days

# The one line each message is known by: the in-app text and the email subject.
TEXTS = {
    "created": "New ticket {number}: {title}",
    "received": "We received your ticket {number}: {title}",
    "assigned": "{number} is assigned to you: {title}",
    "waiting": "{number} is waiting in {team}: {title}",
    "waiting_for_you": "{number} is waiting for you ({why}): {title}",
    "unassigned": "{number} is no longer yours ({holder}): {title}",
    "status": "{number} is now {status}: {title}",
    "reopened": "{actor} reopened {number}: {title}",
    "cancelled": "{actor} cancelled {number}: {title}",
    "confirmed": "{actor} confirmed {number} is fixed: {title}",
    "comment": "New comment on {number}: {title}",
    "comment_reopened": "{actor} commented on closed {number} and reopened it: {title}",
    "internal_comment": "Internal note on {number}: {title}",
    "reminder": "{number} is waiting for your answer: {title}",
    "merged": "{number} was merged into {survivor}: {title}",
    "sla_at_risk": "{target} on {number} is due {due}: {title}",
    "sla_breached": "{target} on {number} missed its SLA ({due}): {title}",
}


def text(key: str, **values) -> str:
    return TEXTS[key].format(**values)


_SAMPLE = {
    "number": "TKT-000123",
    "title": "Printer on floor 3 jams on every job",
    "status": "Resolved",
    "old_status": "In progress",
    "priority": "High",
    "classification": "IT / Hardware / Printer",
    "requester_name": "Emma Employee",
    "actor_name": "Alex Agent",
    "team_name": "IT Service Desk",
    "description": "Every job stops with **paper jam** after the first page.",
    "body": "I replaced the fuser; please try again and tell me if it still jams.",
    "reason": "Alex knows this model best.",
    "internal": False,
    "resolved": True,
    "reopen_days": REOPEN_DAYS,
    "target": "Resolution",
    "due": "2026-11-26 17:30",
    "policy": "Standard",
    "days": 3,
    "close_days": 10,
    "survivor": "TKT-000120",
}


def _sample(key: str):
    """Sample data for a kind's preview, with the text that kind is really sent with."""

    def make() -> dict:
        values = {
            **_SAMPLE,
            "team": _SAMPLE["team_name"],
            "actor": _SAMPLE["actor_name"],
            "holder": "now with Sam Agent",
        }
        return {**_SAMPLE, "text": text(key, **values)}

    return make


def _waiting_sample() -> dict:
    why = "IT Network & Security has no active members"
    values = {**_SAMPLE, "actor": "", "why": why}
    return {
        **_SAMPLE,
        "status": "New",
        "team_name": "IT Network & Security",
        "text": text("waiting_for_you", **values),
        "why": why,
        "step": "spoc",
        "group_name": "IT",
    }


KINDS = {
    kind.name: kind
    for kind in [
        Kind(
            "ticket_created",
            "A ticket arrives for me, my team or my group",
            "ticket_created",
            _sample("created"),
        ),
        Kind(
            "ticket_received",
            "Confirmation of a ticket I raised",
            "ticket_received",
            _sample("received"),
        ),
        Kind(
            "ticket_waiting",
            "A ticket nobody in its team can take is waiting for me (SPOC, triage)",
            "ticket_waiting",
            _waiting_sample,
            # The last step of routing: muting it would leave the ticket with nobody told.
            user_can_mute_email=False,
        ),
        Kind(
            "ticket_assigned",
            "A ticket is assigned to me or lands in my team",
            "ticket_assigned",
            _sample("assigned"),
        ),
        Kind(
            "ticket_unassigned",
            "A ticket I held is given to someone else",
            "ticket_unassigned",
            _sample("unassigned"),
        ),
        Kind(
            "ticket_status",
            "A ticket I raised, watch or hold changes status",
            "ticket_status",
            _sample("status"),
        ),
        Kind(
            "ticket_comment",
            "A new comment on a ticket I am involved in",
            "ticket_comment",
            _sample("comment"),
        ),
        Kind(
            "ticket_reminder",
            "A ticket I raised is on hold waiting for my answer (reminder)",
            "ticket_reminder",
            _sample("reminder"),
        ),
        Kind(
            "ticket_merged",
            "A ticket I raised was merged into another one",
            "ticket_merged",
            _sample("merged"),
        ),
        Kind(
            "sla_at_risk",
            "A ticket I work on or hand out is close to its SLA due time",
            "sla_at_risk",
            _sample("sla_at_risk"),
        ),
        Kind(
            "sla_breached",
            "A ticket of my team or group missed its SLA (escalation)",
            "sla_breached",
            _sample("sla_breached"),
        ),
    ]
}
for _kind in KINDS.values():
    register_kind(_kind)


def _context(ticket, actor, **extra) -> dict:
    if not all(ticket._meta.get_field(name).is_cached(ticket) for name in MASTER_ROWS):
        # A ticket read by id (a comment's, a status change's): its classification and team
        # from the master-data cache, as the ticket page has them, not four lookups.
        attach_master_rows([ticket])
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
    """The active SPOCs of the ticket's group, from the cache (`active_spocs`)."""
    return active_spocs(ticket.group_id)


def _leads(team_id) -> list:
    return _team(team_id, role=TeamMember.Role.LEAD)


def _holders(ticket) -> list:
    """Whoever must act on the ticket now: its assignee; unassigned, the team's leads (who
    hand it out); with no team, the group's SPOCs (who choose one)."""
    if ticket.assignee_id:
        return [ticket.assignee]
    if ticket.team_id:
        return _leads(ticket.team_id)
    return _spocs(ticket)


def _watchers(ticket) -> list:
    """Watchers who may still see the ticket (one may have moved on since watching),
    decided by the access layer in one query however many there are. Most tickets have
    no watcher, so a plain read of the ids comes first: the access question is a query
    of five conditions that costs more to build and plan than the answer is worth."""
    from portal.accounts.models import User
    from portal.tickets.access import users_who_can_view

    # Compiled once per process (portal.lib.compiled): the many-to-many join cost more
    # to build than to run, on every comment.
    ids = [
        pk
        for (pk,) in compiled.rows(
            "notify.watchers",
            _watcher_ids,
            [ticket.pk],
            using=router.db_for_read(User),
            one_plan=True,
        )
    ]
    if not ids:
        return []
    return list(users_who_can_view(ticket, User.objects.filter(pk__in=ids)))


def _watcher_ids(ticket_id: int):
    """The ids of the ticket's watchers whose accounts are active."""
    from portal.accounts.models import User

    return User.objects.filter(watched_tickets=ticket_id, is_active=True).values_list("pk")


def thread_key(ticket) -> str:
    """The key of a ticket's email thread: its Message-IDs are signed over it, and a reply
    that names one of them is matched back to the ticket (portal.mailin)."""
    return f"tkt-{ticket.pk}"


def _message(ticket, *, recipients, kind, text, actor, key, **extra) -> Message:
    return Message(
        recipients=recipients,
        kind=kind,
        text=text,
        link=ticket.get_absolute_url(),
        context=_context(ticket, actor, text=text, **extra),
        event_key=f"ticket:{ticket.pk}:{key}",
        actor=actor,
        thread_key=thread_key(ticket),
        thread_tag=ticket.number,
    )


def _send(ticket, **message) -> None:
    notify_many([_message(ticket, **message)])


def _values(ticket, actor=None, **extra) -> dict:
    return {"number": ticket.number, "title": ticket.title, "actor": str(actor or ""), **extra}


def ticket_created(ticket, *, actor, holder, new: bool = False) -> None:
    """One message per person: whoever the chain landed on is told why (not a routine
    "New ticket" as well); the group's other SPOCs get the routine one. The three messages
    are delivered together (`notify_many`: one write of each kind of row).

    `new`: raised in this transaction, so nobody can be watching it yet and the watchers
    are not looked up (a ticket released by its approvers may have some)."""
    landed = {ticket.assignee_id, *(user.pk for user in holder.told)}
    notify_many(
        [
            # The system routed it (actor None in the message), but whoever raised it is
            # not told about their own ticket landing with them.
            _routed_message(ticket, actor=None, holder=holder, key="created", skip=actor),
            _message(
                ticket,
                recipients=[user for user in _spocs(ticket) if user.pk not in landed],
                kind="ticket_created",
                actor=actor,
                key="created",
                text=text("created", **_values(ticket)),
                description=ticket.description,
            ),
            # The confirmation goes to the requester even though they raised it.
            _message(
                ticket,
                recipients=[ticket.requester, *([] if new else _watchers(ticket))],
                kind="ticket_received",
                actor=None,
                key="received",
                text=text("received", **_values(ticket)),
                next_step=next_step(ticket, holder),
            ),
        ]
    )


AWAITING_NEXT_STEP = (
    "It needs approval before anyone works on it: the approvers have been asked, and you "
    "will hear when they decide."
)


def ticket_awaiting(ticket) -> None:
    """A ticket raised awaiting approval: only the requester's confirmation (the approvals
    app tells the approvers; no team is told of work it may not start). It was raised in
    this transaction: nobody can be watching it yet, so no watcher is looked up."""
    _send(
        ticket,
        recipients=[ticket.requester],
        kind="ticket_received",
        actor=None,
        key="received-awaiting",
        text=text("received", **_values(ticket)),
        next_step=AWAITING_NEXT_STEP,
    )


def next_step(ticket, holder) -> str:
    """What happens next, in the requester's words, true to where routing left it."""
    team = ticket.team.name if ticket.team_id else ""
    if not holder.waiting:
        return f"{holder.assignee_name} ({team}) has it and will work on it."
    if holder.told:
        who = "the SPOC" if holder.step == "spoc" else "the portal's triage admins"
        where = f"Nobody in {team} can take it yet" if team else "No team handles this yet"
        return f"{where}, so {who} ({holder.told_names}) will find someone; they have been told."
    return "No team handles this yet and nobody could be told; the portal's admins see it."


def _without(users, skip) -> list:
    return [user for user in users if skip is None or user.pk != skip.pk]


def ticket_routed(ticket, *, actor, holder, key: str | None = None, skip=None) -> None:
    """Tell whoever the routing chain landed on why it reached them.

    Assigned (a member or the lead): "assigned to you" with the reason. Waiting (SPOCs or
    triage admins): "waiting for you" with the gap. Nobody to tell: nothing is sent (the
    history and the admin dashboard's "waiting with nobody able to act" show it).
    """
    notify_many([_routed_message(ticket, actor=actor, holder=holder, key=key, skip=skip)])


def _routed_message(ticket, *, actor, holder, key: str | None, skip) -> Message:
    key = key or f"v{ticket.version}"
    if not holder.waiting:
        return _message(
            ticket,
            recipients=_without([ticket.assignee], skip),
            kind="ticket_assigned",
            actor=actor,
            key=f"routed:{key}",
            text=text("assigned", **_values(ticket)),
            reason=holder.reason,
            description=ticket.description,
        )
    return _message(
        ticket,
        recipients=_without(holder.told, skip),
        kind="ticket_waiting",
        actor=actor,
        key=f"waiting:{key}",
        text=text("waiting_for_you", **_values(ticket, why=holder.why)),
        why=holder.why,
        step=str(holder.step),
        group_name=ticket.group.name,
    )


def ticket_assigned(ticket, *, actor, previous=None, reason: str = "") -> None:
    """After an assignment, a take or a move: tell whoever now holds the ticket, with the
    reason, and the previous assignee (`previous`) that it is no longer theirs."""
    if ticket.assignee_id:
        recipients, line = [ticket.assignee], text("assigned", **_values(ticket))
    else:
        recipients = _leads(ticket.team_id)
        where = ticket.team.name if ticket.team_id else "your team"
        line = text("waiting", **_values(ticket, team=where))
    key = f"assigned:v{ticket.version}"
    told = _message(
        ticket,
        recipients=recipients,
        kind="ticket_assigned",
        actor=actor,
        key=key,
        text=line,
        reason=reason,
        description=ticket.description,
    )
    previous_told = _previous_message(ticket, previous, actor=actor, reason=reason)
    notify_many([told, previous_told] if previous_told else [told])


def ticket_taken(ticket, *, actor, previous) -> None:
    """Someone took a ticket another person held: that person learns it is not theirs now
    (the taker needs no message about their own action)."""
    told = _previous_message(ticket, previous, actor=actor, reason="Taken.")
    if told:
        notify_many([told])


def _previous_message(ticket, previous, *, actor, reason: str) -> Message | None:
    """The previous assignee's "no longer yours", or None when nobody lost it."""
    if previous is None or previous.pk == ticket.assignee_id:
        return None
    if ticket.assignee_id:
        holder = f"now with {ticket.assignee}"
    else:
        holder = f"now waiting in {ticket.team.name}" if ticket.team_id else "now unassigned"
    return _message(
        ticket,
        recipients=[previous],
        kind="ticket_unassigned",
        actor=actor,
        key=f"assigned:v{ticket.version}:previous",
        text=text("unassigned", **_values(ticket, holder=holder)),
        reason=reason,
    )


# What the holder is told when the requester moves the ticket (from → to).
_REQUESTER_MOVES: dict[tuple[str, str], str] = {
    (Status.RESOLVED, Status.IN_PROGRESS): "reopened",
    (Status.NEW, Status.CANCELLED): "cancelled",
    (Status.RESOLVED, Status.CLOSED): "confirmed",
}


def status_recipients(ticket, *, actor, new_status: str) -> tuple[list, list]:
    """(told as requester or watcher, told as holder) for a status change by `actor`; the
    same lists the change itself uses, so a confirmation page can name them truthfully.

    The holder is the assignee, told of any change someone else makes; on an unassigned
    ticket the leads (or SPOCs) are told only of the requester's own moves — the team's
    own work needs no report to its leads."""
    by_requester = actor is not None and actor.pk == ticket.requester_id
    holders = [] if not (ticket.assignee_id or by_requester) else _holders(ticket)
    holders = [user for user in holders if actor is None or user.pk != actor.pk]
    holder_ids = {user.pk for user in holders}
    followers = [
        user
        for user in [ticket.requester, *_watchers(ticket)]
        if user.pk not in holder_ids and (actor is None or user.pk != actor.pk)
    ]
    return followers, holders


def ticket_status_changed(ticket, *, actor, old_status: str, reason: str = "") -> None:
    resolved = ticket.status == Status.RESOLVED
    followers, holders = status_recipients(ticket, actor=actor, new_status=ticket.status)
    common = {
        "old_status": Status(old_status).label,
        "resolved": resolved,
        "reopen_days": REOPEN_DAYS,
        "reason": reason,
    }
    by_requester = actor is not None and actor.pk == ticket.requester_id
    move = _REQUESTER_MOVES.get((old_status, ticket.status)) if by_requester else None
    line = text(move, **_values(ticket, actor)) if move else None
    notify_many(
        [
            _message(
                ticket,
                recipients=followers,
                kind="ticket_status",
                actor=actor,
                key=f"status:v{ticket.version}",
                text=text("status", **_values(ticket, status=ticket.get_status_display())),
                **common,
            ),
            _message(
                ticket,
                recipients=holders,
                kind="ticket_status",
                actor=actor,
                key=f"status:v{ticket.version}:holder",
                text=line or text("status", **_values(ticket, status=ticket.get_status_display())),
                **{**common, "resolved": False},  # the reopen link is the requester's
            ),
        ]
    )


def comment_added(ticket, comment, *, actor, reopened: bool = False) -> None:
    """`reopened`: the requester's comment on a closed ticket brought it back."""
    if comment.is_internal:
        # Internal notes stay with the people working the ticket: never the requester,
        # even one who is also a member of the team.
        recipients = [
            user
            for user in [ticket.assignee, *_team(ticket.team_id)]
            if user is not None and user.pk != ticket.requester_id
        ]
        line = text("internal_comment", **_values(ticket))
    else:
        from portal.tickets.access import is_worker

        # The requester (or a watcher) writing on an unassigned ticket must reach someone
        # who can act.
        by_requester = actor.pk == ticket.requester_id or not is_worker(actor, ticket)
        holders = _holders(ticket) if (ticket.assignee_id or by_requester) else []
        recipients = [ticket.requester, *holders, *_watchers(ticket)]
        key = "comment_reopened" if reopened else "comment"
        line = text(key, **_values(ticket, actor))
    _send(
        ticket,
        recipients=recipients,
        kind="ticket_comment",
        actor=actor,
        key=f"comment:{comment.pk}",
        text=line,
        body=comment.body,
        internal=comment.is_internal,
        reopened=reopened,
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
        text=text("sla_at_risk", **_values(ticket, target=target.label, due=extra["due"])),
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
        text=text("sla_breached", **_values(ticket, target=target.label, due=extra["due"])),
        **extra,
    )


def hold_reminder(ticket, *, days: int, close_days: int) -> None:
    """The requester of a ticket On hold for `days`: it waits for their answer, and closes
    after `close_days` (0: never) without one. Sent once per hold (autoclose_services)."""
    _send(
        ticket,
        recipients=[ticket.requester] if ticket.requester.is_active else [],
        kind="ticket_reminder",
        actor=None,
        key=f"reminder:{ticket.sla_paused_at.isoformat()}",
        text=text("reminder", **_values(ticket)),
        days=days,
        close_days=close_days,
    )


def ticket_merged(duplicate, survivor, *, actor) -> None:
    """The requester of a merged ticket: which ticket the work goes on in. The link and
    the mail thread stay those of their own ticket (which points to the survivor): they
    watch the survivor now (and so see it), but it may be someone else's ticket they stop
    watching; a reply to this mail lands on the survivor (portal.mailin follows the
    merge) as their public comment there while they watch it."""
    _send(
        duplicate,
        recipients=[duplicate.requester],
        kind="ticket_merged",
        actor=actor,
        key=f"merged:{survivor.pk}",
        text=text("merged", **_values(duplicate, survivor=survivor.number)),
        survivor=survivor.number,
    )
