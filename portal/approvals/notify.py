"""Who is told what about approvals (the notifications app delivers):
- a step opens: each of its approvers, and whoever stands in for them today, gets an
  in-app notice and an email with their own signed approve / reject links
  (`approval_request`; not mutable: the request would otherwise reach nobody);
- a step still pending after APPROVAL_REMINDER_HOURS: the same people, once more
  (`approval_reminder`);
- the decisions reach the requester as status changes (the tickets app tells them).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import User
from portal.approvals import links
from portal.approvals.models import Delegation
from portal.catalog import request_forms
from portal.notifications.kinds import Kind
from portal.notifications.services import absolute_url, notify
from portal.tickets.notify import thread_key

ASK = "{requester} asks for your approval: {number} {title}"
REMIND = "Reminder: {requester} is waiting for your approval: {number} {title}"

_SAMPLE = {
    "number": "TKT-000123",
    "title": "Payroll correction for October",
    "requester_name": "Emma Employee",
    "classification": "HR / Payroll / Correction",
    "step": "Step 1 · the requester's manager, any one of them",
    "answers": [{"label": "Month", "text": "2026-10"}, {"label": "Amount", "text": "120.50"}],
    "approve_url": "https://portal.example.com/approvals/link/sample-approve",
    "reject_url": "https://portal.example.com/approvals/link/sample-reject",
    "page_url": "https://portal.example.com/approvals/1",
    "link_days": 7,
    "on_behalf": "",
    "fallback": "",
}

KINDS = [
    Kind(
        "approval_request",
        "A request waits for my approval",
        "approval_request",
        lambda: {**_SAMPLE, "text": ASK.format(requester="Emma Employee", **_SAMPLE)},
        user_can_mute_email=False,
    ),
    Kind(
        "approval_reminder",
        "A request still waits for my approval (reminder)",
        "approval_request",
        lambda: {
            **_SAMPLE,
            "reminder": True,
            "text": REMIND.format(requester="Emma Employee", **_SAMPLE),
        },
        user_can_mute_email=False,
    ),
]


def answers(ticket) -> list:
    """The request form's answers (label, value) in form order (two queries at most)."""
    definitions = request_forms.definitions_for(ticket.category_id, ticket.subcategory_id)
    values = ticket.form_values or {}
    ids = request_forms.user_ids(values, definitions)
    people = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)} if ids else {}
    return request_forms.answers(values, definitions, people)


def ask(step, ticket, rows, *, reminder: bool = False) -> None:
    """One message per person told: each approver's links are their own."""
    if not rows:
        return
    template = REMIND if reminder else ASK
    text = template.format(requester=ticket.requester, number=ticket.number, title=ticket.title)
    common = {
        "number": ticket.number,
        "title": ticket.title,
        "requester_name": str(ticket.requester),
        "classification": " / ".join(
            str(part) for part in (ticket.group, ticket.category, ticket.subcategory) if part
        ),
        "description": ticket.description,
        "step": step.label,
        "fallback": step.fallback_reason,
        # The outbox keeps plain JSON (portal/notifications/rendering.py): label and text.
        "answers": [{"label": a.label, "text": a.text} for a in answers(ticket)],
        "link_days": settings.APPROVAL_LINK_DAYS,
        "reminder": reminder,
        "text": text,
    }
    page = reverse("approval-detail", args=[step.pk])
    stand_ins = _stand_ins([row.user_id for row in rows])
    kind = "approval_reminder" if reminder else "approval_request"
    for row in rows:
        told = [(row.user, ""), *((d, str(row.user)) for d in stand_ins.get(row.user_id, []))]
        for person, on_behalf in told:
            notify(
                recipients=[person],
                kind=kind,
                text=text,
                link=page,
                context={
                    **common,
                    "on_behalf": on_behalf,
                    "page_url": absolute_url(page),
                    "approve_url": absolute_url(links.link_path(row.pk, person.pk, "approved")),
                    "reject_url": absolute_url(links.link_path(row.pk, person.pk, "rejected")),
                },
                event_key=f"approval:{step.pk}:{row.pk}:{person.pk}:{kind}",
                thread_key=thread_key(ticket),
                thread_tag=ticket.number,
            )


def _stand_ins(user_ids: list[int]) -> dict[int, list]:
    """Today's delegates of these approvers, by approver (one query)."""
    today = timezone.localdate()
    found: dict[int, list] = {}
    for delegation in Delegation.objects.filter(
        user_id__in=user_ids, starts_on__lte=today, ends_on__gte=today, delegate__is_active=True
    ).select_related("delegate"):
        found.setdefault(delegation.user_id, []).append(delegation.delegate)
    return found
