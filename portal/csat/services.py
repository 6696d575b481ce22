"""Recording a rating. One transaction that locks the ticket's row, so two submissions of
the same link (a double click, a replayed request) record one rating; refusals raise a
`TicketError` (400, 403, 404, 409) and record nothing."""

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from portal.csat import notify
from portal.csat.models import COMMENT_MAX, Rating, Score
from portal.lib.errors import Conflict
from portal.tickets import access
from portal.tickets.errors import ActionForbidden, InvalidInput, TicketError
from portal.tickets.models import Status, Ticket


class RatingRefused(TicketError, Conflict):  # type: ignore[misc]  # message: str vs lazy str
    """The resolution was rated already, or no longer stands (reopened): a `Conflict` with
    the ticket's state (CONTRIBUTING.md, "Errors")."""

    status_code = 409


@transaction.atomic
def rating_record(
    *, actor, ticket_id: int, resolved_at: dt.datetime, score: str, comment: str = ""
) -> Rating:
    """Rate the resolution of `ticket_id` made at `resolved_at`.

    `actor` is the signed-in person rating from the ticket page or the API (they must be
    the requester), or None for the signed email link, which speaks for the requester.
    A bad rating tells the team's leads (or the group's SPOCs).
    """
    if score not in Score.values:
        raise InvalidInput("Choose good or bad.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"The comment is too long (at most {COMMENT_MAX} characters).")
    # The link is the requester's capability for this one ticket; a signed-in person's
    # access is checked below, on the locked row.
    ticket = (
        access.system_read(Ticket)
        .select_for_update(of=("self",))
        .select_related("requester", "team", "group")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or (actor is not None and not access.can_view(actor, ticket)):
        raise Http404("No such ticket.")
    if actor is not None and actor.pk != ticket.requester_id:
        raise ActionForbidden("Only the requester rates the resolution of a ticket.")
    resolved = ticket.status in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at
    if not resolved or resolved_at is None or ticket.resolved_at != resolved_at:
        raise RatingRefused(
            f"{ticket.number} was reopened since; this resolution can no longer be rated."
        )
    if Rating.objects.filter(ticket=ticket, resolved_at=resolved_at).exists():
        raise RatingRefused(f"This resolution of {ticket.number} was already rated. Thank you!")
    rating = Rating.objects.create(
        ticket=ticket,
        resolved_at=resolved_at,
        score=score,
        comment=comment,
        rated_by=ticket.requester,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        category_id=ticket.category_id,
        created_at=timezone.now(),
    )
    if score == Score.BAD:
        notify.bad_rating(ticket, rating)
    return rating
