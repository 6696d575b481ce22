"""/tickets: the same filters, services and access checks as the web pages.

Every ticket is loaded with `get_ticket_for_user` while the path is read, before the body
(`schemas.VisibleTicket`: others' numbers are a 404 whatever the body says), and every
change is a service call; service refusals become problems in `problems.install`.
"""

import re

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError

from portal.accounts.models import User
from portal.api import serializers
from portal.api.problems import Problem, problem
from portal.api.schemas import (
    AssignIn,
    CommentIn,
    CommentOut,
    CommentPage,
    CursorQuery,
    EventPage,
    MoveTeamIn,
    TicketCreateIn,
    TicketDetail,
    TicketListQuery,
    TicketPage,
    TicketUpdateIn,
    TransitionIn,
    VersionIn,
    VisibleTicket,
    reject_unknown_query,
)
from portal.catalog.models import BusinessUnitGroup, Category, Subcategory, Team
from portal.lib import keyset
from portal.tickets import access, services
from portal.tickets.errors import ActionForbidden
from portal.tickets.filters import TicketFilter
from portal.tickets.forms import TicketEditForm
from portal.tickets.models import Comment, Ticket, TicketEvent

router = Router(tags=["tickets"])

WRITE_ERRORS = {400: Problem, 403: Problem, 404: Problem, 412: Problem}
# Comments and events are read oldest first, like the ticket page.
OLDEST_FIRST = keyset.Sort("Oldest first", (("created_at", False), ("id", False)))
# The services' own refusals (ticket_assign, ticket_move_team), given before the body's ids
# are looked up (see `_may`).
ASSIGN_FORBIDDEN = "Only the team's lead, the group's SPOC or an admin can assign."
MOVE_FORBIDDEN = "Only people working this ticket can move it to another team."
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
# `If-Match` in the OpenAPI document of every versioned write (read by `expected_version`).
IF_MATCH = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "description": 'The ticket\'s ETag (`"7"`), instead of a `version` field; both must '
            "agree. A stale one is a 412 and nothing changes.",
            "schema": {"type": "string", "examples": ['"7"']},
        }
    ]
}


def _etag(ticket: Ticket) -> str:
    return f'"{ticket.version}"'


def _detail(response: HttpResponse, ticket: Ticket, user, status: int = 200) -> Status:
    """The ticket's body; the version also goes out as a strong ETag for the next If-Match."""
    response["ETag"] = _etag(ticket)
    return Status(status, serializers.ticket_detail(ticket, user))


def expected_version(request: HttpRequest, body_version: int | None) -> int | None:
    """The version the caller last saw: `If-Match: "3"` or a `version` field (must agree)."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        match = _ETAG.match(header)
        if match is None:
            raise HttpError(400, 'If-Match must be the ticket\'s ETag, e.g. "3".')
        from_header = int(match.group(1))
    if from_header is not None and body_version is not None and from_header != body_version:
        raise HttpError(400, "If-Match and the version field disagree; send one of them.")
    return from_header if from_header is not None else body_version


def _may(allowed: bool, message: str) -> None:
    """Refuse (403) before looking up the ids in the body: someone who may not act learns
    nothing about which ids exist from whether the answer is a 403 or a 422."""
    if not allowed:
        raise ActionForbidden(message)


def _get(model, pk: int | None, field: str):
    """A master-data row named by id in a request body, or a 422 naming the field."""
    if pk is None:
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return row


@router.get("", response={200: TicketPage, 400: Problem, 422: Problem}, summary="List tickets")
def ticket_list(request: HttpRequest, filters: Query[TicketListQuery]):
    """Visible tickets, filtered and sorted like the web list, one page per call."""
    reject_unknown_query(request, TicketListQuery)
    # Back to query-string form (enums as values, dates as ISO) for the shared filter form,
    # which applies the same allow-lists and role checks as the web list.
    data = QueryDict(mutable=True)
    for name, value in filters.model_dump(mode="json", exclude_none=True).items():
        data.setlist(name, [str(v) for v in (value if isinstance(value, list) else [value])])
    ticket_filter = TicketFilter(data, request.auth)
    if not ticket_filter.is_valid():
        errors = [
            {"field": f"query.{name}", "message": str(message)}
            for name, messages in ticket_filter.form.errors.items()
            for message in messages
        ]
        return problem(request, 422, "Some filters are not valid; see `errors`.", errors=errors)
    tickets, next_cursor = ticket_filter.page()
    now = timezone.now()  # one instant for every row's SLA state, as on the web list
    url = serializers.ticket_urls()
    items = [serializers.ticket(t, now, url=url(t.number)) for t in tickets]
    return serializers.ticket_page_response(items, next_cursor)


@router.post(
    "",
    response={201: TicketDetail, 400: Problem, 422: Problem},
    summary="Raise a ticket",
)
def ticket_create(request: HttpRequest, payload: TicketCreateIn, response: HttpResponse):
    user = request.auth
    group = _get(BusinessUnitGroup, payload.group, "group")
    category = _get(Category, payload.category, "category")
    subcategory = _get(Subcategory, payload.subcategory, "subcategory")
    ticket = services.ticket_create(
        requester=user,
        title=payload.title,
        description=payload.description,
        group=group,
        category=category,
        subcategory=subcategory,
        priority=payload.priority,
        idempotency_key=payload.idempotency_key,
        # The API can answer the form, so it always must (unlike email in).
        form_values=payload.form_values if payload.form_values is not None else {},
    )
    response["Location"] = f"{request.path.rstrip('/')}/{ticket.number}"
    return _detail(response, ticket, user, status=201)


@router.get("/{number}", response={200: TicketDetail, 404: Problem}, summary="Read a ticket")
def ticket_read(request: HttpRequest, ticket: VisibleTicket, response: HttpResponse):
    reject_unknown_query(request)
    return _detail(response, ticket, request.auth)


@router.patch(
    "/{number}",
    response={200: TicketDetail, 422: Problem, 428: Problem, **WRITE_ERRORS},
    summary="Edit a ticket",
    openapi_extra=IF_MATCH,
)
def ticket_update(
    request: HttpRequest, ticket: VisibleTicket, payload: TicketUpdateIn, response: HttpResponse
):
    """Against the version you read (`If-Match` or `version`): a stale one is a 412 that
    lists what changed, and nothing is saved."""
    user = request.auth
    version = expected_version(request, payload.version)
    if version is None:
        return problem(
            request,
            428,
            'Send the version you read, as `If-Match: "<version>"` or a `version` field.',
        )
    sent = payload.model_fields_set
    changes = {
        name: getattr(payload, name)
        for name in ("title", "description", "priority")
        if name in sent and getattr(payload, name) is not None
    }
    if "category" in sent and payload.category is not None:
        category = _get(Category, payload.category, "category")
        changes["category"] = category
        if "subcategory" not in sent and category.pk != ticket.category_id:
            # As on the edit page, where choosing another category empties the subcategory
            # list: the old subcategory belongs to the old category, so it is cleared.
            if TicketEditForm.subcategory_required:
                raise ValidationError(
                    {"subcategory": f"Choose a subcategory of {category.name} with the category."}
                )
            changes["subcategory"] = None
    if "subcategory" in sent:
        changes["subcategory"] = _get(Subcategory, payload.subcategory, "subcategory")
    if payload.form_values is not None:
        changes["form_values"] = payload.form_values
    ticket = services.ticket_update(actor=user, ticket=ticket, expected_version=version, **changes)
    return _detail(response, ticket, user)


def _act(request: HttpRequest, response: HttpResponse, ticket: Ticket, action) -> Status:
    """Run one service action on a visible ticket and answer with the ticket after it."""
    user = request.auth
    # The service's locked row, as changed: reloading through the access helper would
    # 404 when the change itself ends the caller's access (moving to another team).
    return _detail(response, action(user, ticket), user)


@router.post(
    "/{number}/transitions",
    response={200: TicketDetail, 409: Problem, 422: Problem, **WRITE_ERRORS},
    summary="Change the status",
    openapi_extra=IF_MATCH,
)
def ticket_transition(
    request: HttpRequest, ticket: VisibleTicket, payload: TransitionIn, response: HttpResponse
):
    version = expected_version(request, payload.version)
    return _act(
        request,
        response,
        ticket,
        lambda user, ticket: services.ticket_change_status(
            actor=user,
            ticket=ticket,
            status=payload.status,
            reason=payload.reason,
            expected_version=version,
            with_open_children=payload.with_open_children,
        ),
    )


@router.post(
    "/{number}/take",
    response={200: TicketDetail, **WRITE_ERRORS},
    summary="Take the ticket (assign it to yourself)",
    openapi_extra=IF_MATCH,
)
def ticket_take(
    request: HttpRequest,
    ticket: VisibleTicket,
    response: HttpResponse,
    payload: VersionIn | None = None,
):
    """No body needed; send `{"version": n}` (or `If-Match`) to take it only as you saw it."""
    version = expected_version(request, payload.version if payload else None)
    return _act(
        request,
        response,
        ticket,
        lambda user, ticket: services.ticket_take(
            actor=user, ticket=ticket, expected_version=version
        ),
    )


@router.post(
    "/{number}/assign",
    response={200: TicketDetail, 422: Problem, **WRITE_ERRORS},
    summary="Assign to a member of the ticket's team (or nobody)",
    openapi_extra=IF_MATCH,
)
def ticket_assign(
    request: HttpRequest, ticket: VisibleTicket, payload: AssignIn, response: HttpResponse
):
    version = expected_version(request, payload.version)
    _may(access.can_assign(request.auth, ticket), ASSIGN_FORBIDDEN)
    assignee = _get(User, payload.assignee, "assignee")
    return _act(
        request,
        response,
        ticket,
        lambda user, ticket: services.ticket_assign(
            actor=user,
            ticket=ticket,
            assignee=assignee,
            reason=payload.reason,
            expected_version=version,
        ),
    )


@router.post(
    "/{number}/team",
    response={200: TicketDetail, 422: Problem, **WRITE_ERRORS},
    summary="Move to another team",
    openapi_extra=IF_MATCH,
)
def ticket_move_team(
    request: HttpRequest, ticket: VisibleTicket, payload: MoveTeamIn, response: HttpResponse
):
    version = expected_version(request, payload.version)
    _may(access.can_move_team(request.auth, ticket), MOVE_FORBIDDEN)
    team = _get(Team, payload.team, "team")
    return _act(
        request,
        response,
        ticket,
        lambda user, ticket: services.ticket_move_team(
            actor=user, ticket=ticket, team=team, reason=payload.reason, expected_version=version
        ),
    )


@router.get(
    "/{number}/comments",
    response={200: CommentPage, 400: Problem, 404: Problem},
    summary="List comments",
)
def comment_list(request: HttpRequest, ticket: VisibleTicket, page: Query[CursorQuery]):
    """Oldest first; internal comments only for people working the ticket."""
    reject_unknown_query(request, CursorQuery)
    user = request.auth
    comments = Comment.objects.visible_to(user, ticket).select_related("author")
    rows, next_cursor = keyset.page(comments, OLDEST_FIRST, page.after, page.per_page)
    return {"items": [serializers.comment(c) for c in rows], "next_cursor": next_cursor}


@router.post(
    "/{number}/comments",
    response={201: CommentOut, 409: Problem, 422: Problem, **WRITE_ERRORS},
    summary="Add a comment",
)
def comment_add(request: HttpRequest, ticket: VisibleTicket, payload: CommentIn):
    """The requester's comment on a closed ticket reopens it within the reopen window (as on
    the ticket page); on a cancelled ticket or after the window it is a 409 and nothing is
    added: raise a new ticket instead. With `idempotency_key`, the same comment sent again
    answers the first one (201 again, same id); the key with another comment is a 409."""
    user = request.auth
    comment = services.comment_add(
        actor=user, ticket=ticket, body=payload.body, internal=payload.internal,
        idempotency_key=payload.idempotency_key,
    )  # fmt: skip
    comment.author = user
    return Status(201, serializers.comment(comment))


@router.get(
    "/{number}/events",
    response={200: EventPage, 400: Problem, 404: Problem},
    summary="History",
)
def event_list(request: HttpRequest, ticket: VisibleTicket, page: Query[CursorQuery]):
    """Every change, oldest first; events about internal comments only for workers."""
    reject_unknown_query(request, CursorQuery)
    user = request.auth
    events = TicketEvent.objects.visible_to(user, ticket).select_related("actor")
    rows, next_cursor = keyset.page(events, OLDEST_FIRST, page.after, page.per_page)
    return {"items": [serializers.event(e) for e in rows], "next_cursor": next_cursor}
