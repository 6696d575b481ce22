"""/tickets/{number}/canned-replies: the canned replies usable on a ticket, and using one.

As on the ticket page, only people working the ticket have canned replies (others who can
see it: 403; anyone else: 404). Using a reply fills in its placeholders for the ticket
and the caller (`portal.replies.placeholders`); with `post` it is also added as a comment
through the same service as `POST /tickets/{number}/comments`.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import (
    CommentOut,
    CursorQuery,
    Input,
    Page,
    PathId,
    Ref,
    VisibleTicket,
    reject_unknown_query,
)
from portal.lib import keyset
from portal.replies import access, services
from portal.replies.placeholders import fill
from portal.tickets import access as ticket_access

router = Router(tags=["canned replies"])

BY_ID = keyset.Sort("Oldest first", (("id", False),))


class ReplyQuery(CursorQuery):
    q: str | None = Field(None, max_length=100, description="Words in the title or text.")


class CannedReplyOut(Schema):
    id: int
    title: str
    body: str = Field(description="As written, placeholders and all.")
    team: Ref | None = Field(description="The team sharing it; null for your own.")


class CannedReplyPage(Page):
    items: list[CannedReplyOut]


class UseIn(Input):
    post: bool = Field(False, description="Also add the filled-in reply as a comment.")
    internal: bool = Field(False, description="With `post`: as an internal comment.")


class UseOut(Schema):
    body: str = Field(description="The reply with its placeholders filled in for this ticket.")
    comment: CommentOut | None = Field(description="The comment added (with `post`), or null.")


def _require_worker(user, ticket) -> None:
    if not ticket_access.is_worker(user, ticket):
        raise PermissionDenied("Canned replies are for people working this ticket.")


@router.get(
    "/{number}/canned-replies",
    response={200: CannedReplyPage, 400: Problem, 403: Problem, 404: Problem},
    summary="List canned replies usable on the ticket",
)
def reply_list(request: HttpRequest, ticket: VisibleTicket, query: Query[ReplyQuery]):
    """Your personal replies, your teams' and the ticket's team's, oldest first."""
    reject_unknown_query(request, ReplyQuery)
    user = request.auth
    _require_worker(user, ticket)
    replies = access.usable_replies(user, ticket)
    if query.q:
        replies = replies.filter(Q(title__icontains=query.q) | Q(body__icontains=query.q))
    rows, next_cursor = keyset.page(replies, BY_ID, query.after, query.per_page)
    return {
        "items": [
            {"id": r.pk, "title": r.title, "body": r.body, "team": serializers.ref(r.team)}
            for r in rows
        ],
        "next_cursor": next_cursor,
    }


@router.post(
    "/{number}/canned-replies/{reply_id}/use",
    response={200: UseOut, 201: UseOut, 409: Problem, **{c: Problem for c in (400, 403, 404)}},
    summary="Use a canned reply on the ticket",
)
def reply_use(request: HttpRequest, ticket: VisibleTicket, reply_id: PathId, payload: UseIn):
    """The reply filled in for this ticket (200); with `post: true` also added as a comment
    (201; a closed ticket's refusal is a 409 with nothing added)."""
    user = request.auth
    _require_worker(user, ticket)
    reply = access.get_usable_reply(user, ticket, reply_id)
    if not payload.post:
        return Status(200, {"body": fill(reply.body, ticket=ticket, agent=user), "comment": None})
    comment = services.canned_reply_post(
        actor=user, ticket=ticket, reply=reply, internal=payload.internal
    )
    comment.author = user
    return Status(201, {"body": comment.body, "comment": serializers.comment(comment)})
