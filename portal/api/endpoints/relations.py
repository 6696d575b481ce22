"""/tickets/{number}/merge: merging a duplicate into another ticket, with the page's rules
(merge_services.py): the caller works both tickets (403 otherwise), a ticket they cannot
see is a 404 like a missing number, and a refusal changes nothing."""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router

from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import Input, TicketDetail, VisibleTicket
from portal.tickets import merge_services

router = Router(tags=["merge and relations"])


class MergeIn(Input):
    into: str = Field(
        min_length=1,
        max_length=40,
        description="The ticket to merge this one into: `TKT-000123` or `123`.",
    )


@router.post(
    "/{number}/merge",
    response={200: TicketDetail, **{c: Problem for c in (400, 403, 404, 409)}},
    summary="Merge the ticket into another one",
)
def ticket_merge(
    request: HttpRequest, ticket: VisibleTicket, payload: MergeIn, response: HttpResponse
):
    """Moves this ticket's comments (internal ones stay internal), files and watchers to
    `into`, closes this one pointing to it (`merged_into`), makes its requester a watcher
    of `into` and tells them. Answers the ticket merged into. 409 when either ticket is
    closed, cancelled or merged already."""
    user = request.auth
    survivor = merge_services.ticket_merge(actor=user, ticket=ticket, into_number=payload.into)
    response["ETag"] = f'"{survivor.version}"'
    return serializers.ticket_detail(survivor, user)
