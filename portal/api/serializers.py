"""Model rows → plain dicts for the response schemas (no queries: callers join first)."""

import datetime as dt
import json
from collections.abc import Callable

from django.http import HttpResponse
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from portal.lib.urls import around_number
from portal.tickets import access, sla, transitions
from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent, format_number


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "full_name": user.full_name}


def ref(obj) -> dict | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def sla_status(t: Ticket, now: dt.datetime | None = None) -> dict | None:
    """The ticket page's SLA facts and the list's badge, from stored fields (no queries)."""
    now = now or timezone.now()
    views = sla.target_views(t, now)
    if not views:
        return None
    state = sla.worst_state(views)
    return {
        "policy": t.sla_policy_name,
        "state": state,
        "label": sla.STATE_LABELS[state],
        "paused": t.sla_paused_at is not None,
        "next_due_at": sla.next_due(t),
        **{
            view.target.key: {
                "due_at": view.due_at,
                "at_risk_at": getattr(t, view.target.at_risk),
                "state": view.state,
                "label": view.label,
            }
            for view in views
        },
    }


def ticket(t: Ticket, now: dt.datetime | None = None, *, url: str | None = None) -> dict:
    """Needs requester, group, category, subcategory, team and assignee joined. `url`: the
    ticket's `get_absolute_url()` when the caller has it (a page of tickets reverses the
    URL once, `ticket_urls`)."""
    return {
        "number": t.number,
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": t.priority,
        "group": ref(t.group),
        "category": ref(t.category),
        "subcategory": ref(t.subcategory),
        "team": ref(t.team),
        "requester": person(t.requester),
        "assignee": person(t.assignee),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "version": t.version,
        "sla": sla_status(t, now),
        "form_values": t.form_values or {},
        "url": t.get_absolute_url() if url is None else url,
        # Numbers only (no query, and a number reveals nothing of a ticket one cannot see).
        "merged_into": format_number(t.merged_into_id) if t.merged_into_id else None,
        "parent": format_number(t.parent_id) if t.parent_id else None,
    }


def ticket_page_response(items: list[dict], next_cursor: str | None) -> HttpResponse:
    """A page of `ticket()` dicts answered as ninja answers a `TicketPage` (its fields in
    order, rendered by ninja's JSON renderer), without validating them against it first:
    that walk of 25 tickets' nested schemas was a third of the API list's CPU
    (docs/benchmarks.md), for values `ticket()` already gives in the schema's types and
    order. tests/test_ticket_page_response.py compares the bytes with the validated path."""
    content = json.dumps({"next_cursor": next_cursor, "items": items}, cls=NinjaJSONEncoder)
    return HttpResponse(content, content_type="application/json; charset=utf-8")


def ticket_urls() -> Callable[[str], str]:
    """`number -> Ticket.get_absolute_url()` with the URL reversed once per process (a
    reverse per ticket was a fourteenth of the API's list): numbers hold no character a
    URL quotes."""
    before, after = around_number("ticket-detail")
    return lambda number: before + number + after


def ticket_detail(t: Ticket, user) -> dict:
    """The ticket plus what `user` may do with it (roles are cached: no queries)."""
    roles = access.ticket_roles(user, t)
    return {
        **ticket(t),
        "allowed_transitions": transitions.allowed_targets(roles, t),
        "can": {
            "take": access.can_take(user, t),
            "assign": access.can_assign(user, t) and t.team_id is not None,
            "move_team": access.can_move_team(user, t),
            "edit": access.can_edit(user, t),
            "comment_internal": access.can_comment_internal(user, t),
        },
    }


def comment(c: Comment) -> dict:
    return {
        "id": c.pk,
        "author": person(c.author),
        "body": c.body,
        "internal": c.is_internal,
        "created_at": c.created_at,
    }


def event(e: TicketEvent) -> dict:
    return {
        "id": e.pk,
        "kind": e.kind,
        "field": e.field,
        "old_value": e.old_value,
        "new_value": e.new_value,
        "reason": e.reason,
        "actor": person(e.actor),
        "internal": e.is_internal,
        "version": e.version,
        "created_at": e.created_at,
    }


def attachment(a: Attachment, download_url: str) -> dict:
    """Needs the uploader joined and `comment_internal` annotated (or the comment joined)."""
    internal = getattr(a, "comment_internal", None)
    if internal is None:
        internal = a.comment_id is not None and a.comment.is_internal
    return {
        "id": a.pk,
        "name": a.original_name,
        "size": a.size,
        "content_type": a.content_type,
        "sha256": a.sha256,
        "uploader": person(a.uploader),
        "comment": a.comment_id,
        "internal": bool(internal),
        "created_at": a.created_at,
        "download_url": download_url,
    }
