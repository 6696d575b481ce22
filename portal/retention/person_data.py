"""Everything the portal holds about one person, section by section (the person export).

One function per section, each a list of plain dicts of codes and values (no labels), read
by the portal itself: ticket parts through `access.system_read` (this is a system read on
an admin's behalf, not what the person could see), everything else by its foreign key to
the user or, where a table keeps an address instead (email in, password resets), by the
person's email. The files of `attachments()` are added to the zip by `person_export`.

Every foreign key to the user is named in USER_KEYS below (the section that exports it,
or why none does); a test fails when a new one appears that is not. Pending notices name
people by id inside their JSON, not by a key: `pending_notifications` reads them.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import Model, Q
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import (
    PasskeyDevice,
    PasswordResetRequest,
    SecurityEvent,
    SsoIdentity,
    User,
    UserSession,
)
from portal.api.models import ApiToken
from portal.approvals.models import Approver, Delegation
from portal.catalog.models import ApprovalRule, BusinessUnitGroup, TeamMember
from portal.csat.models import Rating
from portal.kb.models import Article, ArticleEvent, ArticleImage
from portal.lib.emails import RenderedEmail
from portal.links.models import TicketLink
from portal.mailin.models import InboundMessage
from portal.notifications import rendering
from portal.notifications.models import (
    EmailDelivery,
    EmailPreference,
    Notification,
    PendingNotice,
)
from portal.replies.models import CannedReply
from portal.tickets import access
from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent
from portal.webhooks.models import AllowedHost, Webhook

Row = dict[str, Any]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def profile(user: User) -> list[Row]:
    return [
        {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "active": user.is_active,
            "admin": user.is_staff,
            "on_triage_duty": user.on_triage_duty,
            "manager": user.manager.email if user.manager_id else "",
            "reports": list(User.objects.filter(manager=user).values_list("email", flat=True)),
            "named_approver_in": [
                str(rule.owner)
                for rule in ApprovalRule.objects.filter(users=user).select_related(
                    "category", "subcategory"
                )
            ],
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "teams": [
                {"team": m.team.name, "role": m.role, "active": m.is_active}
                for m in TeamMember.objects.filter(user=user).select_related("team")
            ],
            "spoc_of": list(
                BusinessUnitGroup.objects.filter(spocs=user).values_list("name", flat=True)
            ),
            "email_preferences": list(
                EmailPreference.objects.filter(user=user).values("kind", "email")
            ),
        }
    ]


def _ticket_row(ticket: Ticket) -> Row:
    return {
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "group": ticket.group.name,
        "category": ticket.category.name,
        "subcategory": ticket.subcategory.name if ticket.subcategory_id else "",
        "team": ticket.team.name if ticket.team_id else "",
        "requester": ticket.requester.email,
        "assignee": ticket.assignee.email if ticket.assignee_id else "",
        "form_values": ticket.form_values,
        "created_at": _iso(ticket.created_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
    }


def _tickets(condition: Q) -> list[Row]:
    tickets = (
        access.system_read(Ticket)
        .filter(condition)
        .select_related("group", "category", "subcategory", "team", "requester", "assignee")
        .order_by("id")
    )
    return [_ticket_row(t) for t in tickets.iterator(chunk_size=500)]


def tickets_raised(user: User) -> list[Row]:
    return _tickets(Q(requester=user))


def tickets_assigned(user: User) -> list[Row]:
    return _tickets(Q(assignee=user))


def tickets_watched(user: User) -> list[Row]:
    return [
        {"ticket": t.number}
        for t in access.system_read(Ticket).filter(watchers=user).order_by("id").only("id")
    ]


def comments(user: User) -> list[Row]:
    rows = access.system_read(Comment).filter(author=user).select_related("ticket")
    return [
        {
            "id": c.pk,
            "ticket": c.ticket.number,
            "internal": c.is_internal,
            "body": c.body,
            "created_at": _iso(c.created_at),
        }
        for c in rows.order_by("id").iterator(chunk_size=500)
    ]


def attachments(user: User) -> list[Row]:
    """The person's uploads; `file` is the path of the bytes inside the zip."""
    rows = access.system_read(Attachment).filter(uploader=user).select_related("ticket")
    return [
        {
            "id": a.pk,
            "ticket": a.ticket.number,
            "comment": a.comment_id,
            "name": a.original_name,
            "size": a.size,
            "content_type": a.content_type,
            "sha256": a.sha256,
            "created_at": _iso(a.created_at),
            "file": attachment_path(a.pk, a.original_name),
            "storage_key": a.storage_key,
        }
        for a in rows.order_by("id")
    ]


def attachment_path(pk: int, name: str) -> str:
    # The id keeps two uploads of "scan.pdf" apart; the name is already storage-safe text
    # but may hold slashes from some browsers, which would make folders in the zip.
    return f"files/{pk}-{name.replace('/', '_').replace(chr(92), '_')}"


def history(user: User) -> list[Row]:
    events = access.system_read(TicketEvent).filter(actor=user).select_related("ticket")
    return [
        {
            "ticket": e.ticket.number,
            "kind": e.kind,
            "field": e.field,
            "old": e.old_value,
            "new": e.new_value,
            "reason": e.reason,
            "internal": e.is_internal,
            "at": _iso(e.created_at),
        }
        for e in events.order_by("id").iterator(chunk_size=2000)
    ]


def _values(model: type[Model], condition: Q, fields: Iterable[str]) -> list[Row]:
    rows = model._default_manager.filter(condition).order_by("pk").values(*fields)
    return [{k: _iso(v) if hasattr(v, "isoformat") else v for k, v in row.items()} for row in rows]


def notifications(user: User) -> list[Row]:
    return _values(
        Notification, Q(recipient=user), ("kind", "text", "link", "created_at", "read_at")
    )


def pending_notifications(user: User) -> list[Row]:
    """What they are about to be told and were not yet: each message naming them in an
    event's pending notice (the worker delivers one within seconds, so this is normally
    empty) or in one kept as failed (`state`), until an admin retries or discards it. As
    the notification and the email will say it (kind, text, link, the email's values),
    without the other people the message names. A notice has no foreign key to them, only
    their id in each message's "to": PostgreSQL finds theirs by JSON containment, the
    embedded SQLite reads every notice (the table holds seconds of events)."""
    notices = PendingNotice.objects.order_by("pk")
    if connection.vendor == "postgresql":
        notices = notices.filter(messages__contains=[{"to": [user.pk]}])
    return [
        {
            "kind": message["kind"],
            "text": message["text"],
            "link": message["link"],
            "email_values": message["context"] if notice.emails else None,
            "in_app": message["in_app"],
            "state": "failed" if notice.failed_at else "pending",
            "event_at": _iso(notice.created_at),
        }
        for notice in notices.iterator(chunk_size=500)
        for message in notice.messages
        if user.pk in message["to"]
    ]


def email_deliveries(user: User) -> list[Row]:
    """Mail to them, as sent or (still queued) as it will be sent."""
    rows = (
        EmailDelivery.objects.filter(Q(recipient=user) | Q(to_address__iexact=user.email))
        .select_related("recipient")
        .order_by("pk")
    )
    return [
        {
            "to_address": row.to_address,
            "kind": row.kind,
            "subject": (message := _as_sent(row)).subject,
            "body_text": message.text,
            "status": row.status,
            "created_at": _iso(row.created_at),
            "sent_at": _iso(row.sent_at),
        }
        for row in rows
    ]


def _as_sent(row: EmailDelivery) -> RenderedEmail:
    """The row's message; one that cannot be written (its kind gone, its template broken)
    is exported as the values it holds, not left out and not failing the export."""
    try:
        return rendering.rendered(row)
    except Exception:  # noqa: BLE001 (any template error: the values are still theirs)
        values = json.dumps(row.pending, ensure_ascii=False, sort_keys=True)
        return RenderedEmail(subject="", text=values, html="")


def inbound_messages(user: User) -> list[Row]:
    """Mail they sent, and mail of the triage queue they classified or dismissed (an
    admin's decision about someone else's mail is still something they did).

    Of someone else's mail only the decision is theirs: its sender, subject and detail
    are the sender's personal data, in the sender's export, not in the decider's."""
    rows = _values(
        InboundMessage,
        Q(sender__iexact=user.email) | Q(decided_by=user),
        ("sender", "subject", "message_id", "outcome", "detail", "received_at", "decided_by"),
    )
    own_address = user.email.casefold()
    for row in rows:
        row["decided_by_them"] = row.pop("decided_by") == user.pk
        if row["sender"].casefold() != own_address:
            row["sender"] = row["subject"] = row["detail"] = ""
    return rows


def ratings(user: User) -> list[Row]:
    """Ratings the person gave, and ratings of tickets they had resolved."""
    rows = Rating.objects.filter(Q(rated_by=user) | Q(assignee=user)).select_related("ticket")
    return [
        {
            "ticket": r.ticket.number,
            "given_by_them": r.rated_by_id == user.pk,
            "score": r.score,
            "comment": r.comment,
            "created_at": _iso(r.created_at),
        }
        for r in rows.order_by("id")
    ]


def approvals(user: User) -> list[Row]:
    """Approvals asked of them (and decided by them for others), and their delegations."""
    rows = (
        Approver.objects.filter(Q(user=user) | Q(decided_by=user))
        .select_related("step__ticket", "user", "decided_by")
        .order_by("id")
    )
    return [
        {
            "decisions": [
                {
                    "ticket": row.step.ticket.number,
                    "step": row.step.position,
                    "approver": row.user.email,
                    "decision": row.decision,
                    "comment": row.comment,
                    "decided_by": row.decided_by.email if row.decided_by_id else "",
                    "decided_at": _iso(row.decided_at),
                }
                for row in rows
            ],
            "delegations": [
                {
                    "approver": d.user.email,
                    "delegate": d.delegate.email,
                    "starts_on": d.starts_on.isoformat(),
                    "ends_on": d.ends_on.isoformat(),
                    "set_by_them": d.created_by_id == user.pk,
                }
                for d in Delegation.objects.filter(
                    Q(user=user) | Q(delegate=user) | Q(created_by=user)
                )
                .select_related("user", "delegate")
                .order_by("id")
            ],
        }
    ]


def sign_in(user: User) -> list[Row]:
    """Sessions, company sign-in identities, API tokens (never their secrets), two-factor
    devices (never their keys), and password reset requests."""
    return [
        {
            "sessions": _values(
                UserSession, Q(user=user), ("created_at", "ip_address", "user_agent")
            ),
            "company_identities": _values(
                SsoIdentity, Q(user=user), ("issuer", "subject", "created_at", "last_sign_in_at")
            ),
            "api_tokens": _values(
                ApiToken, Q(user=user), ("name", "created_at", "expires_at", "revoked_at")
            ),
            "two_factor_devices": [
                {"kind": kind, "name": name}
                for kind, model in (
                    ("totp", TOTPDevice),
                    ("passkey", PasskeyDevice),
                    ("recovery", StaticDevice),
                )
                for name in model.objects.filter(user=user).values_list("name", flat=True)
            ],
            "password_reset_requests": _values(
                PasswordResetRequest, Q(email__iexact=user.email), ("created_at", "ip_address")
            ),
        }
    ]


def security_events(user: User) -> list[Row]:
    """The security log about them, done by them, or naming their address (failed logins)."""
    return _values(
        SecurityEvent,
        Q(user=user) | Q(actor=user) | Q(email__iexact=user.email),
        ("created_at", "level", "event", "user_id", "actor_id", "email", "ip_address", "details"),
    )


def authored(user: User) -> list[Row]:
    """What the person wrote for others: canned replies, articles, links, admin-site changes."""
    return [
        {
            "canned_replies": _values(
                CannedReply, Q(owner=user) | Q(created_by=user), ("title", "body", "created_at")
            ),
            "articles": _values(Article, Q(author=user), ("slug", "title", "created_at")),
            "article_events": _values(
                ArticleEvent, Q(actor=user), ("article__slug", "kind", "created_at")
            ),
            "article_images": _values(
                ArticleImage, Q(uploaded_by=user), ("article__slug", "original_name", "created_at")
            ),
            "ticket_links": [
                {"source": link.source.number, "target": link.target.number, "kind": link.kind}
                for link in TicketLink.objects.filter(created_by=user).select_related(
                    "source", "target"
                )
            ],
            "webhooks": _values(Webhook, Q(created_by=user), ("name", "url", "created_at")),
            "allowed_hosts": _values(AllowedHost, Q(created_by=user), ("host", "created_at")),
            "admin_site_changes": _values(
                LogEntry, Q(user=user), ("action_time", "object_repr", "change_message")
            ),
        }
    ]


# Section name (the JSON file in the zip) → reader.
SECTIONS: dict[str, Callable[[User], list[Row]]] = {
    "profile": profile,
    "tickets_raised": tickets_raised,
    "tickets_assigned": tickets_assigned,
    "tickets_watched": tickets_watched,
    "comments": comments,
    "attachments": attachments,
    "history": history,
    "notifications": notifications,
    "pending_notifications": pending_notifications,
    "email_deliveries": email_deliveries,
    "inbound_messages": inbound_messages,
    "ratings": ratings,
    "approvals": approvals,
    "sign_in": sign_in,
    "security_events": security_events,
    "authored": authored,
}


# Every foreign key to the user → the section that holds its rows (or why none does).
USER_KEYS = {
    "accounts.UserSession.user": "sign_in",
    "accounts.SsoIdentity.user": "sign_in",
    "accounts.SecurityEvent.user": "security_events",
    "accounts.SecurityEvent.actor": "security_events",
    "admin.LogEntry.user": "authored",
    "otp_totp.TOTPDevice.user": "sign_in",
    "accounts.PasskeyDevice.user": "sign_in",
    "otp_static.StaticDevice.user": "sign_in",
    "catalog.TeamMember.user": "profile",
    "catalog.PendingImport.created_by": "none: a workbook waiting a day for its Apply",
    "notifications.Notification.recipient": "notifications",
    "notifications.EmailPreference.user": "profile",
    "notifications.EmailDelivery.recipient": "email_deliveries",
    "kb.Article.author": "authored",
    "kb.ArticleEvent.actor": "authored",
    "kb.ArticleImage.uploaded_by": "authored",
    "tickets.Ticket.requester": "tickets_raised",
    "tickets.Ticket.assignee": "tickets_assigned",
    "tickets.Ticket.watchers": "tickets_watched",
    "tickets.Comment.author": "comments",
    "tickets.TicketEvent.actor": "history",
    "tickets.Attachment.uploader": "attachments",
    "replies.CannedReply.owner": "authored",
    "replies.CannedReply.created_by": "authored",
    "csat.Rating.rated_by": "ratings",
    "csat.Rating.assignee": "ratings",
    "links.TicketLink.created_by": "authored",
    "api.ApiToken.user": "sign_in",
    "webhooks.Webhook.created_by": "authored",
    "webhooks.AllowedHost.created_by": "authored",
    "catalog.BusinessUnitGroup.spocs": "profile",
    "accounts.User.manager": "profile",
    "catalog.ApprovalRule.users": "profile",
    "approvals.Approver.user": "approvals",
    "approvals.Approver.decided_by": "approvals",
    "approvals.Delegation.user": "approvals",
    "approvals.Delegation.delegate": "approvals",
    "approvals.Delegation.created_by": "approvals",
    "mailin.InboundMessage.decided_by": "inbound_messages",
    "retention.ErasureRequest.user": "none: the erasure of this person (kept as its record)",
    "retention.ErasureRequest.requested_by": "none: an admin's erasure of someone else",
}
