"""Request and response bodies. Inputs forbid unknown fields: a typo is a 422, not ignored."""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from ninja import Field, Path, Schema
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, PlainValidator, ValidationInfo

from portal.catalog.models import Priority
from portal.sla.clock import SlaState
from portal.tickets import access
from portal.tickets.filters import SAVED_VIEWS, SORTS
from portal.tickets.models import Status, Ticket, TicketEvent

BIGINT = 2**63 - 1
# Every id in a path or body: beyond a bigint the database would raise (a 500), not miss.
PositiveId = Annotated[int, Field(ge=1, le=BIGINT)]
PathId = Annotated[int, Path(ge=1, le=BIGINT)]


def _visible_ticket(number: str, info: ValidationInfo) -> Ticket:
    return access.get_ticket_for_user(info.context["request"].auth, number)


# `{number}` in a path, loaded through the access layer while ninja reads the path, which
# it does before the query, form, files and body: a ticket the caller cannot see is a 404
# whatever else the request says. (Validating the body first let an outsider tell an
# existing user id (404) from a missing one (422) through `assign`.) Declare it first.
VisibleTicket = Annotated[
    Ticket,
    PlainValidator(_visible_ticket, json_schema_input_type=str),
    Path(alias="number", description="`TKT-000123`, or just `123`."),
]


class Input(Schema):
    """Base of every request body and query: unknown fields are refused, not dropped."""

    model_config = ConfigDict(extra="forbid")


def reject_unknown_query(request, *schemas: type[Schema]) -> None:
    """ninja hands a query schema only the parameters it declares and drops the rest; a
    misspelt filter (`?stauts=new`) must be a 422, not silently the unfiltered list."""
    known = {name for schema in schemas for name in schema.model_fields}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise NinjaValidationError(
            [
                {"loc": ("query", name), "msg": "Unknown query parameter.", "type": "extra"}
                for name in unknown
            ]
        )


# --- shared output shapes ---------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class Person(Schema):
    id: int
    email: str
    full_name: str


class Page(Schema):
    """Keyset pagination: pass `next_cursor` back as `after` for the next page."""

    next_cursor: str | None


# --- tickets ------------------------------------------------------------------------------

SavedView = Literal[tuple(SAVED_VIEWS)]  # type: ignore[valid-type]
SortKey = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class TicketListQuery(Input):
    """The web list's filters, by the same names (see portal/tickets/filters.py)."""

    view: SavedView | None = Field(None, description="Saved view; some need a role.")
    q: str | None = Field(None, max_length=200, description="Full-text search.")
    status: list[Status] | None = None
    priority: list[Priority] | None = None
    sla_state: list[SlaState] | None = Field(
        None, description="The SLA badge: on_track, at_risk, breached, paused, met."
    )
    group: int | None = Field(None, ge=1, le=BIGINT)
    category: int | None = Field(None, ge=1, le=BIGINT)
    subcategory: int | None = Field(None, ge=1, le=BIGINT)
    team: int | None = Field(None, ge=1, le=BIGINT)
    answer: str | None = Field(
        None,
        max_length=80,
        description="`<field code>:<option code>` of a choice field of the chosen category's "
        "request form (needs `group` and `category`).",
    )
    assignee: str | None = Field(None, max_length=254, description="Email, `me` or `none`.")
    requester: str | None = Field(None, max_length=254, description="Email or `me`.")
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    updated_from: dt.date | None = None
    updated_to: dt.date | None = None
    sort: SortKey | None = None
    per_page: Literal["25", "50", "100"] | None = Field(None, description="Page size.")
    after: str | None = Field(None, max_length=500, description="`next_cursor` of a page.")


class SlaTargetOut(Schema):
    """One clock (first response or resolution) as the ticket page shows it."""

    due_at: dt.datetime | None = Field(
        description="When the target is due; null while the clock is paused short of it."
    )
    at_risk_at: dt.datetime | None = Field(description="When 80 % of the target is used.")
    state: SlaState
    label: str = Field(examples=["At risk"])


class SlaOut(Schema):
    """The service level: the policy, the ticket's badge (its worse target) and both clocks."""

    policy: str = Field(examples=["Standard"])
    state: SlaState = Field(description="The worse of the two targets (the list's badge).")
    label: str = Field(examples=["At risk"])
    paused: bool = Field(description="The clocks are stopped (On hold, Resolved, Closed).")
    next_due_at: dt.datetime | None = Field(
        description="First response due until answered, then resolution due."
    )
    response: SlaTargetOut
    resolution: SlaTargetOut


class TicketOut(Schema):
    number: str
    title: str
    description: str
    status: Status
    priority: Priority
    group: Ref
    category: Ref
    subcategory: Ref | None
    team: Ref | None
    requester: Person
    assignee: Person | None
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    sla: SlaOut | None = Field(description="null: no SLA applies (no policy, or cancelled).")
    form_values: dict[str, Any] = Field(
        description="Answers to the request form, by field code (codes, not labels)."
    )
    url: str = Field(description="The ticket's page in the portal.")
    merged_into: str | None = Field(
        None, description="The ticket this one was merged into (it is closed), or null."
    )
    parent: str | None = Field(None, description="The parent ticket's number, or null.")


class Permissions(Schema):
    take: bool
    assign: bool
    move_team: bool
    edit: bool
    comment_internal: bool


class TicketDetail(TicketOut):
    allowed_transitions: list[Status] = Field(description="Statuses you may move it to now.")
    can: Permissions


class TicketPage(Page):
    items: list[TicketOut]


class TicketCreateIn(Input):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    group: int = Field(ge=1, le=BIGINT)
    category: int = Field(ge=1, le=BIGINT)
    subcategory: int | None = Field(None, ge=1, le=BIGINT)
    priority: Priority | None = Field(None, description="Empty: the mapping's default.")
    idempotency_key: uuid.UUID | None = Field(
        None, description="Send the same key again to get the first ticket, not a second one."
    )
    form_values: dict[str, Any] | None = Field(
        None,
        description="Answers to the classification's request form by field code; its JSON "
        "Schema is the component `FormValues_<category>` (or `FormValues_<category>_"
        "<subcategory>` when the subcategory has fields of its own) of this document, and "
        "GET /catalog/form answers it for one classification. Refusals are a 422 naming "
        "each field.",
    )


class TicketUpdateIn(Input):
    """Only the fields sent change; `subcategory: null` clears it. A new `category` sent
    without `subcategory` clears the subcategory, as the edit page does."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"version": 3, "priority": "high"},
                {"version": 3, "category": 4},
                {"version": 3, "category": 4, "subcategory": 9},
            ]
        },
    )

    version: int | None = Field(None, ge=1, description='Or send `If-Match: "<version>"`.')
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=1, max_length=20_000)
    priority: Priority | None = None
    category: int | None = Field(None, ge=1, le=BIGINT)
    subcategory: int | None = Field(None, ge=1, le=BIGINT)
    form_values: dict[str, Any] | None = Field(
        None,
        description="Answers to the classification's request form by field code, in full; "
        "its JSON Schema is the component `FormValues_<category>[_<subcategory>]` of this "
        "document (GET /catalog/form for one classification). Refusals are a 422 naming "
        "each field.",
    )


VERSION_HELP = (
    'The ticket\'s `version` (or send `If-Match: "<version>"`). Optional on actions: '
    "when given and the ticket has changed since, nothing changes and the answer is a 412."
)


class TransitionIn(Input):
    status: Status
    reason: str = Field("", max_length=1000)
    version: int | None = Field(None, ge=1, description=VERSION_HELP)
    with_open_children: bool = Field(
        False,
        description="Resolve or close a parent even though child tickets are open (else 409); "
        "the history records it.",
    )


class AssignIn(Input):
    assignee: int | None = Field(description="A user id, or null to unassign.", ge=1, le=BIGINT)
    reason: str = Field("", max_length=1000)
    version: int | None = Field(None, ge=1, description=VERSION_HELP)


class VersionIn(Input):
    """An action's optional body: the version you saw, to act only if it is still current."""

    version: int | None = Field(None, ge=1, description=VERSION_HELP)


class MoveTeamIn(Input):
    team: int = Field(ge=1, le=BIGINT)
    reason: str = Field(min_length=1, max_length=1000)
    version: int | None = Field(None, ge=1, description=VERSION_HELP)


class CommentIn(Input):
    body: str = Field(min_length=1, max_length=20_000)
    internal: bool = Field(False, description="Only for people working the ticket.")
    idempotency_key: uuid.UUID | None = Field(
        None,
        description="Send the same comment again with the same key to get the first one, "
        "not a second; the key with a different comment is a 409 and nothing is added.",
    )


class CommentOut(Schema):
    id: int
    author: Person
    body: str
    internal: bool
    created_at: dt.datetime


class CommentPage(Page):
    items: list[CommentOut]


class EventOut(Schema):
    id: int
    kind: TicketEvent.Kind
    field: str
    old_value: str
    new_value: str
    reason: str
    actor: Person | None
    internal: bool
    version: int
    created_at: dt.datetime


class EventPage(Page):
    items: list[EventOut]


class CursorQuery(Input):
    after: str | None = Field(None, max_length=500)
    per_page: int = Field(50, ge=1, le=100)


# --- attachments -------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    name: str = Field(description="As uploaded (for display).", examples=["invoice.pdf"])
    size: int = Field(description="Bytes.")
    content_type: str = Field(
        description="Detected from the bytes, not the name.", examples=["application/pdf"]
    )
    sha256: str
    uploader: Person
    comment: int | None = Field(description="The comment it came with, if any.")
    internal: bool = Field(description="Came with an internal comment: workers only.")
    created_at: dt.datetime
    download_url: str = Field(
        description="GET it with the same token: the file, or a redirect to a short-lived "
        "presigned URL when the files are in S3/R2."
    )


class AttachmentPage(Page):
    items: list[AttachmentOut]


class UploadForm(Input):
    """The non-file fields of an upload (multipart/form-data, files under `files`)."""

    comment: str = Field(
        "",
        max_length=20_000,
        description="With a comment the files belong to it (and are as internal as it is); "
        "without one (empty) they belong to the ticket and are never internal.",
    )
    internal: bool = Field(False, description="Make the comment internal (workers only).")
    skip_refused: bool = Field(
        False,
        description="Store the accepted files and leave the refused ones out (listed in "
        "`skipped`) instead of refusing the whole request.",
    )


class Skipped(Schema):
    name: str
    code: str = Field(examples=["content_mismatch"])
    message: str


class UploadOut(Schema):
    attachments: list[AttachmentOut]
    comment: CommentOut | None
    skipped: list[Skipped] = Field(description="Refused files left out (`skip_refused`).")


# --- watchers ----------------------------------------------------------------------------


class WatcherPage(Page):
    watching: bool = Field(description="Whether you watch this ticket.")
    items: list[Person] = Field(
        description="People working the ticket see every watcher; others see only themselves."
    )


class WatchOut(Schema):
    watching: bool
    changed: bool = Field(description="False when it already was that way.")
