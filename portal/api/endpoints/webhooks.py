"""/webhooks: admins manage outbound webhooks and read their delivery log (docs/webhooks.md).

The same services as the /webhooks screens (`portal.webhooks.services`), so the same
checks apply: a URL the guard cannot parse, an unknown event or format is a 422; a
delivered delivery is never sent again (409). Everyone but admins gets 403, as on the
screens. A hook's `secret` is returned by its own page (`GET /webhooks/{id}`) and on
creation, never in the list.
"""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.api.guards import require_admin
from portal.api.problems import Problem
from portal.api.schemas import CursorQuery, Input, Page, PathId, Ref, reject_unknown_query
from portal.catalog.models import Team
from portal.lib import keyset
from portal.lib.errors import Conflict
from portal.webhooks import services
from portal.webhooks.models import Event, Format, Webhook, WebhookDelivery

router = Router(tags=["webhooks"])

ADMINS_ONLY = "Only admins can manage webhooks."
BY_ID = keyset.Sort("Oldest first", (("id", False),))
# message_id is unique and orders like the row: a cursor needs no UUID handling.
NEWEST_FIRST = keyset.Sort(
    "Newest first",
    (("created_at", True), ("message_id", True)),
    text_keys=frozenset({"message_id"}),
)
EVENT_CODES = ", ".join(Event.values)


class WebhookOut(Schema):
    id: int
    name: str = Field(examples=["Service desk channel"])
    url: str = Field(examples=["https://hooks.example.com/portal"])
    events: list[str] = Field(description=f"Event codes: {EVENT_CODES}.")
    format: str = Field(description="standard, teams or slack.")
    team: Ref | None = Field(description="Only this team's tickets; null for all.")
    include_internal: bool = Field(description="Internal notes and events are sent too.")
    is_active: bool
    disabled_reason: str = Field(description="Why it was switched off, if it was.")
    consecutive_failures: int
    created_at: dt.datetime


class WebhookDetail(WebhookOut):
    secret: str = Field(description="`whsec_…`: the key receivers verify signatures with.")


class WebhookPage(Page):
    items: list[WebhookOut]


class WebhookIn(Input):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(min_length=1, max_length=20, description=EVENT_CODES)
    format: str = Field(Format.STANDARD, description="standard, teams or slack.")
    team_id: int | None = Field(None, ge=1, le=2**63 - 1)
    include_internal: bool = False


class WebhookPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[str] | None = Field(None, min_length=1, max_length=20)
    format: str | None = None
    team_id: int | None = Field(None, ge=1, le=2**63 - 1, description="0 is not a team.")
    all_teams: bool = Field(False, description="Clear the team: the hook gets every ticket.")
    include_internal: bool | None = None
    is_active: bool | None = Field(None, description="Switching it on resets the failures.")


class DeliveryOut(Schema):
    id: uuid.UUID
    event: str
    message_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    status: str = Field(description="queued, sending, sent or failed.")
    attempts: int
    next_attempt_at: dt.datetime
    response_status: int | None
    response_excerpt: str = Field(description="The answer's first 500 characters.")
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class DeliveryPage(Page):
    items: list[DeliveryOut]


class RetryOut(Schema):
    queued: bool


def _hook(hook_id: int) -> Webhook:
    hook = Webhook.objects.select_related("team").filter(pk=hook_id).first()
    if hook is None:
        raise Http404
    return hook


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team_id": ValidationError("No such team.", code="unknown")})
    return team


def _out(hook: Webhook) -> dict:
    return {
        "id": hook.pk,
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "format": hook.format,
        "team": {"id": hook.team.pk, "name": hook.team.name} if hook.team else None,
        "include_internal": hook.include_internal,
        "is_active": hook.is_active,
        "disabled_reason": hook.disabled_reason,
        "consecutive_failures": hook.consecutive_failures,
        "created_at": hook.created_at,
    }


@router.get(
    "", response={200: WebhookPage, 403: Problem}, summary="List webhooks (admins)"
)  # fmt: skip
def webhook_list(request: HttpRequest, page: Query[CursorQuery]):
    """Every hook, oldest first (one query per page)."""
    reject_unknown_query(request, CursorQuery)
    require_admin(request, ADMINS_ONLY)
    hooks = Webhook.objects.select_related("team")
    rows, next_cursor = keyset.page(hooks, BY_ID, page.after, page.per_page)
    return {"items": [_out(h) for h in rows], "next_cursor": next_cursor}


@router.post(
    "",
    response={201: WebhookDetail, 403: Problem},
    summary="Register a webhook (admins)",
)
def webhook_create(request: HttpRequest, payload: WebhookIn):
    """A new hook with a fresh secret (in the answer). The URL is checked as on the screen;
    whether it resolves to an allowed address is checked at each delivery."""
    require_admin(request, ADMINS_ONLY)
    hook = services.webhook_create(
        actor=request.auth,
        name=payload.name,
        url=payload.url,
        events=payload.events,
        fmt=payload.format,
        team=_team(payload.team_id),
        include_internal=payload.include_internal,
    )
    return Status(201, {**_out(hook), "secret": hook.secret})


@router.get(
    "/{hook_id}",
    response={200: WebhookDetail, 403: Problem, 404: Problem},
    summary="One webhook, with its secret (admins)",
)
def webhook_detail(request: HttpRequest, hook_id: PathId):
    require_admin(request, ADMINS_ONLY)
    hook = _hook(hook_id)
    return {**_out(hook), "secret": hook.secret}


@router.patch(
    "/{hook_id}",
    response={200: WebhookDetail, 403: Problem, 404: Problem},
    summary="Change a webhook (admins)",
)
def webhook_update(request: HttpRequest, hook_id: PathId, payload: WebhookPatch):
    """Only the fields sent change. `is_active: true` switches a disabled hook back on."""
    require_admin(request, ADMINS_ONLY)
    hook = _hook(hook_id)
    if payload.all_teams and payload.team_id is not None:
        raise ValidationError(
            {"team_id": ValidationError("Send a team or all_teams, not both.", code="both")}
        )
    team = hook.team
    if payload.all_teams:
        team = None
    elif payload.team_id is not None:
        team = _team(payload.team_id)
    services.webhook_update(
        actor=request.auth,
        hook=hook,
        name=hook.name if payload.name is None else payload.name,
        url=hook.url if payload.url is None else payload.url,
        events=hook.events if payload.events is None else payload.events,
        fmt=hook.format if payload.format is None else payload.format,
        team=team,
        include_internal=(
            hook.include_internal if payload.include_internal is None else payload.include_internal
        ),
        is_active=hook.is_active if payload.is_active is None else payload.is_active,
    )
    return {**_out(hook), "secret": hook.secret}


@router.delete(
    "/{hook_id}",
    response={204: None, 403: Problem, 404: Problem},
    summary="Delete a webhook and its delivery log (admins)",
)
def webhook_delete(request: HttpRequest, hook_id: PathId):
    require_admin(request, ADMINS_ONLY)
    services.webhook_delete(actor=request.auth, hook=_hook(hook_id))
    return Status(204, None)


@router.get(
    "/{hook_id}/deliveries",
    response={200: DeliveryPage, 403: Problem, 404: Problem},
    summary="A webhook's delivery log (admins)",
)
def delivery_list(request: HttpRequest, hook_id: PathId, page: Query[CursorQuery]):
    """Newest first; bodies are not included (they are what was sent, as rendered)."""
    reject_unknown_query(request, CursorQuery)
    require_admin(request, ADMINS_ONLY)
    deliveries = WebhookDelivery.objects.filter(webhook=_hook(hook_id)).defer("body")
    rows, next_cursor = keyset.page(deliveries, NEWEST_FIRST, page.after, page.per_page)
    fields = DeliveryOut.model_fields
    return {
        "items": [{name: getattr(row, name) for name in fields} for row in rows],
        "next_cursor": next_cursor,
    }


@router.post(
    "/{hook_id}/deliveries/{delivery_id}/retry",
    response={200: RetryOut, 403: Problem, 404: Problem, 409: Problem},
    summary="Send a failed or waiting delivery again now (admins)",
)
def delivery_retry(request: HttpRequest, hook_id: PathId, delivery_id: uuid.UUID):
    """Queued for the worker at once, under the same `webhook-id`. A delivered one, or one
    being sent right now, is a 409 and is not sent again."""
    require_admin(request, ADMINS_ONLY)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, webhook=_hook(hook_id)).first()
    if delivery is None:
        raise Http404
    if not services.delivery_retry(delivery=delivery, actor=request.auth):
        raise Conflict("That delivery was delivered already, or is being sent now.")
    return {"queued": True}
