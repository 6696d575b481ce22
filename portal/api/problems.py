"""Every error the API returns, as `application/problem+json` (RFC 9457).

A problem carries `type` (a stable URN naming the kind of problem; docs/api.md lists
them), `title` (the same for every problem of that type), `status`, `detail` (this
occurrence, written for the person reading it), `instance` (the path asked for) and,
where input is to blame, `errors`: one entry per field. Exception handlers on the
NinjaAPI (`install`) turn exceptions from ninja, Django and our services into problems
in one place, so no endpoint formats an error by hand.
"""

import logging
from http import HTTPStatus

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from portal.api.parser import InputRefused
from portal.lib.db import UNAVAILABLE_ERRORS
from portal.lib.errors import Conflict
from portal.lib.keyset import BadCursor
from portal.tickets.errors import EditConflict, InvalidFormValues, TicketError

log = logging.getLogger("portal.api")

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:portal:problem:"


class FieldError(Schema):
    field: str
    message: str
    code: str | None = Field(
        None, description="For programs: e.g. an upload refusal's `too_large`, `content_mismatch`."
    )


class Change(Schema):
    """One change someone else made since the version the caller sent."""

    kind: str
    field: str
    old_value: str
    new_value: str
    actor: str | None
    at: str
    version: int


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    changes: list[Change] | None = None
    current_version: int | None = None


# slug → title; the slug ends the `type` URN.
TITLES = {
    "bad-request": "The request is not valid",
    "unauthenticated": "Authentication required",
    "forbidden": "Not allowed",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "conflict": "Conflict",
    "stale-version": "The resource changed since you read it",
    "precondition-required": "A version is required",
    "too-large": "Request too large",
    "unsupported-type": "This type of file is not accepted",
    "unsupported-media-type": "The body's content type is not accepted",
    "validation": "Some fields are not valid",
    "rate-limited": "Too many requests",
    "locked-out": "Too many failed sign-in attempts",
    "slowed-down": "Too many sign-in attempts from this address",
    "too-many-tokens": "Too many API tokens",
    "two-factor-required": "This account signs in with two-factor authentication",
    "invalid-credentials": "Email and password do not match",
    "server-error": "Server error",
    "unavailable": "Temporarily unavailable",
}
_DEFAULT_SLUG = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "stale-version",
    413: "too-large",
    415: "unsupported-type",
    422: "validation",
    428: "precondition-required",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}


def problem(
    request: HttpRequest | None,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    **extra,
) -> HttpResponse:
    """A problem+json response (`extra` adds members such as `changes`)."""
    slug = slug or _DEFAULT_SLUG.get(status, "bad-request" if status < 500 else "server-error")
    body = Problem(
        type=TYPE_PREFIX + slug,
        title=TITLES.get(slug) or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.path if request is not None else None,
        errors=errors,
        **extra,
    )
    response = HttpResponse(
        body.model_dump_json(exclude_none=True), status=status, content_type=MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401:
        # RFC 6750: say whether a token was sent and refused, or none was sent at all.
        sent = request is not None and "Authorization" in request.headers
        response["WWW-Authenticate"] = 'Bearer realm="api"' + (
            ', error="invalid_token"' if sent else ""
        )
    return response


def is_problem(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith(MEDIA_TYPE)


def _field_name(loc: list | tuple) -> str:
    # ninja reports ("body", "payload", "title"): the view's parameter name says nothing.
    parts = [str(part) for part in loc]
    if len(parts) >= 3 and parts[0] in ("body", "query", "form"):
        parts = [parts[0], *parts[2:]]
    elif len(parts) >= 2 and parts[0] == "file":  # a multipart file field: its own name
        parts = parts[1:]
    elif len(parts) == 2 and parts[0] == "body":  # the whole body is missing or not an object
        parts = ["body"]
    return ".".join(parts)


def _validation(request, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(item.get("loc", ())), "message": item.get("msg", "Not valid.")}
        for item in exc.errors
    ]
    return problem(request, 422, "Some fields are not valid; see `errors`.", errors=errors)


def django_field_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "non_field" if field == "__all__" else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "non_field", "message": message} for message in exc.messages]


def _django_validation(request, exc: DjangoValidationError) -> HttpResponse:
    errors = django_field_errors(exc)
    return problem(request, 422, errors[0]["message"] if errors else "Not valid.", errors=errors)


def _input_refused(request, exc: InputRefused) -> HttpResponse:
    return problem(request, exc.status, exc.detail, slug=exc.slug, errors=exc.errors)


def _http_error(request, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, InputRefused):
        # ninja turns anything its body parser raises into "Cannot parse request body";
        # the parser's own refusal (415, a NUL) is the answer to give.
        return _input_refused(request, exc.__cause__)
    status = exc.status_code
    if isinstance(exc, AuthenticationError):
        return problem(request, 401, "Send a valid token as `Authorization: Bearer <token>`.")
    if isinstance(exc, Throttled):
        # Our throttle leaves the wait on the request (throttle objects are shared).
        wait = getattr(request, "_api_retry_after", None) or exc.wait or 60
        return problem(
            request,
            429,
            "Your rate limit (all your tokens and your session together) was reached; slow down.",
            headers={"Retry-After": str(int(wait))},
        )
    return problem(request, status, exc.message)


def _ticket_error(request, exc: TicketError) -> HttpResponse:
    if isinstance(exc, EditConflict):
        return stale(request, exc)
    # A storage outage (AttachmentStorageFailed, 503): nothing was saved, retrying may work.
    headers = {"Retry-After": "30"} if exc.status_code == 503 else None
    return problem(request, exc.status_code, exc.message, headers=headers)


def _form_values(request, exc: InvalidFormValues) -> HttpResponse:
    """422 naming each request-form field refused, as `form_values.<code>`."""
    errors = [
        {"field": f"form_values.{key}" if key != "form_values" else key, "message": message}
        for key, message in exc.errors.items()
    ]
    return problem(
        request, 422, "Some request-form values were refused; see `errors`.", errors=errors
    )


def stale(request, exc: EditConflict) -> HttpResponse:
    """412 listing what changed since the version the caller sent."""
    changes = [
        {
            "kind": event.kind,
            "field": event.field,
            "old_value": event.old_value,
            "new_value": event.new_value,
            "actor": (event.actor.full_name or event.actor.email) if event.actor else None,
            "at": event.created_at.isoformat(),
            "version": event.version,
        }
        for event in exc.changes
    ]
    current = max((event.version for event in exc.changes), default=None)
    return problem(request, 412, exc.message, changes=changes, current_version=current)


def _server_error(request, exc: Exception) -> HttpResponse:
    log.exception("API request failed", extra={"path": request.path})
    return problem(request, 500, "Something went wrong on our side; it has been logged.")


def database_unavailable(request, exc: Exception | None = None) -> HttpResponse:
    """The database cannot be reached: an outage, not a bug. Nothing was changed."""
    log.warning("API request while the database is unavailable", extra={"path": request.path})
    return problem(
        request,
        503,
        "The service is temporarily unavailable; nothing was changed. Retry shortly.",
        headers={"Retry-After": "30"},
    )


def install(api) -> None:
    """Register every handler on `api` (most specific class wins, by MRO)."""
    handlers = {
        NinjaValidationError: _validation,
        HttpError: _http_error,
        Http404: lambda request, exc: problem(request, 404, "Nothing was found at this address."),
        PermissionDenied: lambda request, exc: problem(
            request, 403, str(exc) or "You are not allowed to do this."
        ),
        # The services' refusals (CONTRIBUTING.md, "Errors"): bad input 422, a conflict
        # with the current state 409; a ticket service's refusal says its own status.
        DjangoValidationError: _django_validation,
        Conflict: lambda request, exc: problem(request, 409, exc.message),
        TicketError: _ticket_error,
        InvalidFormValues: _form_values,
        InputRefused: _input_refused,
        BadCursor: lambda request, exc: problem(request, 400, str(exc)),
        # A unique constraint lost to a concurrent request (e.g. two creations of one email).
        IntegrityError: lambda request, exc: problem(
            request, 409, "Another change to the same record won; read it again and retry."
        ),
        RequestDataTooBig: lambda request, exc: problem(
            request, 413, "The request body is too large."
        ),
        # Django's caps on multipart bodies (DATA_UPLOAD_MAX_NUMBER_FILES / _FIELDS).
        TooManyFilesSent: lambda request, exc: problem(
            request, 413, "Too many files in one request; send fewer at a time."
        ),
        TooManyFieldsSent: lambda request, exc: problem(
            request, 413, "Too many form fields in one request."
        ),
        # A damaged multipart body and the like: the client's fault, never a 500.
        SuspiciousOperation: lambda request, exc: problem(
            request, 400, "The request could not be read; check its encoding."
        ),
        # The database is down or restarting (portal.lib.db.UNAVAILABLE_ERRORS).
        **dict.fromkeys(UNAVAILABLE_ERRORS, database_unavailable),
        # No or a bad boundary, a part header over Django's 1 KB (a 1,000-character file
        # name), bad base64...: the web pages answer 400 for these too (Django's handler).
        MultiPartParserError: lambda request, exc: problem(
            request, 400, f"The multipart body could not be read: {exc}"
        ),
        Exception: _server_error,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
