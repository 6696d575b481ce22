"""/tickets/{number}/merge, /parent, /children and /links: merging, parent/child and links
between tickets, with the pages' rules (tickets/merge_services.py, links/services.py): the
caller works the ticket (403 otherwise), a ticket they cannot see is a 404 like a missing
number and is never named with its title, and a refusal changes nothing."""

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from portal.api import serializers
from portal.api.problems import Problem
from portal.api.schemas import Input, TicketDetail, VisibleTicket
from portal.links import services as link_services
from portal.links.models import LinkKind
from portal.links.selectors import links_for
from portal.tickets import access, merge_services
from portal.tickets.models import Status as TicketStatus
from portal.tickets.models import Ticket

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


# --- parent/child ----------------------------------------------------------------------


class ParentIn(Input):
    parent: str = Field(
        min_length=1, max_length=40, description="The parent ticket: `TKT-000123` or `123`."
    )


class Related(Schema):
    number: str
    title: str
    status: TicketStatus
    url: str


class RelatedList(Schema):
    items: list[Related]


def _related(t: Ticket) -> dict:
    return {"number": t.number, "title": t.title, "status": t.status, "url": t.get_absolute_url()}


@router.put(
    "/{number}/parent",
    response={200: TicketDetail, **{c: Problem for c in (400, 403, 404, 409)}},
    summary="Make the ticket a child of another",
)
def parent_set(request: HttpRequest, ticket: VisibleTicket, payload: ParentIn):
    """You work both tickets (403 otherwise); a parent you cannot see is a 404 like a
    missing number; a loop (the parent is below this ticket) is a 400. A parent is not
    resolved while a child is open unless its transition says `with_open_children`."""
    user = request.auth
    child = merge_services.ticket_set_parent(
        actor=user, ticket=ticket, parent_number=payload.parent
    )
    return serializers.ticket_detail(child, user)


@router.delete(
    "/{number}/parent",
    response={200: TicketDetail, **{c: Problem for c in (400, 403, 404)}},
    summary="Remove the ticket's parent",
)
def parent_remove(request: HttpRequest, ticket: VisibleTicket):
    """400 when it has none."""
    user = request.auth
    child = merge_services.ticket_set_parent(actor=user, ticket=ticket, parent_number="")
    return serializers.ticket_detail(child, user)


@router.get(
    "/{number}/children",
    response={200: RelatedList, 404: Problem},
    summary="List the ticket's children you may see",
)
def children_list(request: HttpRequest, ticket: VisibleTicket):
    """Oldest first; children you cannot see are left out, title and all (at most 200)."""
    rows = access.visible_tickets(request.auth).filter(parent=ticket).order_by("id")[:200]
    return {"items": [_related(t) for t in rows]}


# --- links -----------------------------------------------------------------------------


class LinkIn(Input):
    kind: LinkKind = Field(description="How this ticket relates to `target`.")
    target: str = Field(min_length=1, max_length=40, description="`TKT-000123` or `123`.")


class LinkOut(Schema):
    id: int
    kind: LinkKind = Field(description="The link as stored, from `source` to `target`.")
    label: str = Field(description="How it reads from this ticket: `is blocked by`, ….")
    direction: Literal["outgoing", "incoming"]
    other: Related


class LinkList(Schema):
    items: list[LinkOut]


def _link(link) -> dict:
    outgoing = link.source_id != link.other.pk
    return {
        "id": link.pk,
        "kind": link.kind,
        "label": link.label,
        "direction": "outgoing" if outgoing else "incoming",
        "other": _related(link.other),
    }


@router.get(
    "/{number}/links",
    response={200: LinkList, 404: Problem},
    summary="List the ticket's links",
)
def link_list(request: HttpRequest, ticket: VisibleTicket):
    """Links whose other ticket you may see (others are left out, title and all)."""
    return {"items": [_link(link) for link in links_for(request.auth, ticket)]}


@router.post(
    "/{number}/links",
    response={201: LinkOut, **{c: Problem for c in (400, 403, 404, 409)}},
    summary="Link the ticket to another",
)
def link_add(request: HttpRequest, ticket: VisibleTicket, payload: LinkIn):
    """You work this ticket (403 otherwise); a target you cannot see is a 404 like a
    missing number; the same link twice is a 409."""
    user = request.auth
    created = link_services.ticket_link_add(
        actor=user, ticket=ticket, target_number=payload.target, kind=payload.kind
    )
    [link] = [row for row in links_for(user, ticket) if row.pk == created.pk]
    return Status(201, _link(link))


@router.delete(
    "/{number}/links/{link_id}",
    response={204: None, **{c: Problem for c in (403, 404)}},
    summary="Remove a link",
)
def link_remove(request: HttpRequest, ticket: VisibleTicket, link_id: int):
    """A link of this ticket (either end) whose other ticket you may see; else 404."""
    link_services.ticket_link_remove(actor=request.auth, ticket=ticket, link_id=link_id)
    return Status(204, None)
