"""/tickets/{number}/ratings: satisfaction ratings of a ticket, and rating it.

As on the ticket page: the requester and the people working the ticket read its ratings;
only the requester rates, once per resolution, while the ticket is resolved or closed.
"""

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import Input, Person, VisibleTicket
from portal.csat import selectors, services
from portal.csat.models import COMMENT_MAX, Score

router = Router(tags=["ratings"])


class RatingOut(Schema):
    id: int
    score: Score = Field(description="`good` or `bad`.")
    comment: str
    resolved_at: dt.datetime = Field(description="The resolution rated.")
    rated_by: Person
    created_at: dt.datetime


class RatingList(Schema):
    items: list[RatingOut]


class RatingIn(Input):
    score: Score
    comment: str = Field("", max_length=COMMENT_MAX)


def _out(rating, requester) -> dict:
    return {
        "id": rating.pk,
        "score": rating.score,
        "comment": rating.comment,
        "resolved_at": rating.resolved_at,
        "rated_by": serializers.person(requester),
        "created_at": rating.created_at,
    }


@router.get(
    "/{number}/ratings",
    response={200: RatingList, 404: Problem},
    summary="List the ticket's satisfaction ratings",
)
def rating_list(request: HttpRequest, ticket: VisibleTicket):
    """Oldest first; empty for anyone who neither raised nor works the ticket."""
    rows = selectors.ratings_on(request.auth, ticket).order_by("created_at", "id")
    return {"items": [_out(r, ticket.requester) for r in rows]}


@router.post(
    "/{number}/ratings",
    response={201: RatingOut, **{c: Problem for c in (400, 403, 404, 409)}},
    summary="Rate the ticket's resolution",
)
def rating_add(request: HttpRequest, ticket: VisibleTicket, payload: RatingIn):
    """The requester rates the current resolution (409 when it was rated already or the
    ticket is not resolved or closed); a bad rating tells the team's leads."""
    rating = services.rating_record(
        actor=request.auth,
        ticket_id=ticket.pk,
        resolved_at=ticket.resolved_at,
        score=payload.score,
        comment=payload.comment,
    )
    return Status(201, _out(rating, ticket.requester))
