"""/approvals: the approvals waiting for me, one approval, and deciding it.

The same rules as the pages (portal/approvals/access.py): an approver, or whoever stands
in for them today, sees and decides their steps; anyone else gets 404; nobody decides on
a request they raised (403); a step already decided is a 409; a rejection needs the
reason (422).
"""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import Input, PathId, Person
from portal.approvals import access, notify, services
from portal.approvals.models import COMMENT_MAX, ApprovalStep

router = Router(tags=["approvals"])
LIST_LIMIT = 200


class Answer(Schema):
    key: str
    label: str
    text: str


class ApproverOut(Schema):
    person: Person
    decision: str = Field(description="`approved`, `rejected`, or empty while pending.")
    comment: str
    decided_at: dt.datetime | None
    decided_by: Person | None = Field(description="The approver, or their delegate.")


class ApprovalOut(Schema):
    id: int = Field(description="The step's id: the address of its decision.")
    ticket: str = Field(description="The ticket's number.")
    title: str
    requester: Person
    classification: str
    step: str = Field(description="Which step, whose approval, any or all of them.")
    position: int
    mode: Literal["any", "all"]
    state: str = Field(description="`pending`, `approved`, `rejected`, `waiting`, `skipped`.")
    opened_at: dt.datetime | None
    decided_at: dt.datetime | None


class ApprovalDetail(ApprovalOut):
    description: str
    answers: list[Answer]
    approvers: list[ApproverOut]


class ApprovalList(Schema):
    items: list[ApprovalOut]


class DecisionIn(Input):
    decision: Literal["approved", "rejected"]
    comment: str = Field("", max_length=COMMENT_MAX, description="Required to reject.")


def _out(step: ApprovalStep) -> dict:
    ticket = step.ticket
    return {
        "id": step.pk,
        "ticket": ticket.number,
        "title": ticket.title,
        "requester": serializers.person(ticket.requester),
        "classification": " / ".join(
            str(part) for part in (ticket.group, ticket.category, ticket.subcategory) if part
        ),
        "step": step.label,
        "position": step.position,
        "mode": step.mode,
        "state": step.state,
        "opened_at": step.opened_at,
        "decided_at": step.decided_at,
    }


def _detail(step: ApprovalStep) -> dict:
    rows = step.approvers.select_related("user", "decided_by")
    return {
        **_out(step),
        "description": step.ticket.description,
        "answers": [
            {"key": a.key, "label": a.label, "text": a.text} for a in notify.answers(step.ticket)
        ],
        "approvers": [
            {
                "person": serializers.person(row.user),
                "decision": row.decision,
                "comment": row.comment,
                "decided_at": row.decided_at,
                "decided_by": serializers.person(row.decided_by),
            }
            for row in rows
        ],
    }


@router.get("", response={200: ApprovalList}, summary="List the approvals waiting for me")
def approval_list(request: HttpRequest):
    """Oldest first (at most 200): steps pending on me or on someone I stand in for today."""
    rows = access.pending_rows(request.auth)[:LIST_LIMIT]
    return {"items": [_out(row.step) for row in rows]}


@router.get("/{step_id}", response={200: ApprovalDetail, 404: Problem}, summary="Read one approval")
def approval_get(request: HttpRequest, step_id: PathId):
    """What the approver decides on: the request, its form answers, every approver's part."""
    return _detail(access.get_step_for_user(request.auth, step_id))


@router.post(
    "/{step_id}/decision",
    response={200: ApprovalDetail, **{c: Problem for c in (403, 404, 409)}},
    summary="Approve or reject",
)
def approval_decide(request: HttpRequest, step_id: PathId, payload: DecisionIn):
    """Decide for myself (and anyone I stand in for on this step). A rejection closes the
    ticket with the comment as its reason; the last approval routes it."""
    services.approval_decide(
        actor=request.auth, step_id=step_id, decision=payload.decision, comment=payload.comment
    )
    return _detail(access.get_step_for_user(request.auth, step_id))
