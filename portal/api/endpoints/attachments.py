"""/tickets/{number}/attachments: list, upload and download, exactly as on the ticket page.

- Listing applies the page's rule (`Attachment.objects.visible_to`): files of
  internal comments only for people working the ticket.
- Uploads go through `portal.tickets.attachment_services` (the web forms' services): every
  file validated first (name, size, sniffed content), then stored (no transaction open,
  one time budget for the whole upload) and its rows, history and comment committed, or
  nothing at all: a storage that fails or hangs is a 503 with Retry-After in time.
- Downloads use the page's access check (`access.get_attachment_for_user`) and
  its response (`download_response`: the file, or, once a bounded check says the storage
  answers, a redirect to a presigned URL; else a 503 with Retry-After).
"""

from django.db.models import BooleanField, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile

from portal.api import serializers
from portal.api.problems import Problem, problem
from portal.api.schemas import (
    AttachmentPage,
    CursorQuery,
    Input,
    PathId,
    UploadForm,
    UploadOut,
    VisibleTicket,
    reject_unknown_query,
)
from portal.attachments.downloads import download_response
from portal.attachments.storage import StorageUnavailable, get_storage
from portal.attachments.validation import UploadRefused
from portal.lib import keyset
from portal.tickets import access, attachment_services
from portal.tickets.attachment_services import AttachmentsRefused, TooManyAttachments
from portal.tickets.models import Attachment, parse_number

router = Router(tags=["attachments"])

OLDEST_FIRST = keyset.Sort("Oldest first", (("created_at", False), ("id", False)))

# Refusal codes (portal.attachments.validation) that say "not a type we accept": 415.
TYPE_REFUSALS = frozenset(
    {
        "blocked_type",
        "type_not_allowed",
        "double_extension",
        "content_mismatch",
        "executable",
        "markup",
        "active_content",
    }
)
UPLOAD_FIELDS = frozenset(UploadForm.model_fields)


class DownloadQuery(Input):
    inline: bool = False


def _download_url(number: str, pk: int) -> str:
    return reverse("api-v1:attachment-download", kwargs={"number": number, "attachment_id": pk})


def _out(attachment, number: str) -> dict:
    return serializers.attachment(attachment, _download_url(number, attachment.pk))


@router.get(
    "/{number}/attachments",
    response={200: AttachmentPage, 400: Problem, 404: Problem},
    summary="List a ticket's files",
)
def attachment_list(request: HttpRequest, ticket: VisibleTicket, page: Query[CursorQuery]):
    """Oldest first. Files of internal comments are listed only for people working the
    ticket (as on the ticket page); everyone who may see the ticket sees the rest."""
    reject_unknown_query(request, CursorQuery)
    user = request.auth
    files = (
        Attachment.objects.visible_to(user, ticket)
        .select_related("uploader")
        .annotate(
            comment_internal=Coalesce(
                "comment__is_internal", Value(False), output_field=BooleanField()
            )
        )
    )
    rows, next_cursor = keyset.page(files, OLDEST_FIRST, page.after, page.per_page)
    return {"items": [_out(a, ticket.number) for a in rows], "next_cursor": next_cursor}


def _refused(request: HttpRequest, error: AttachmentsRefused) -> HttpResponse:
    """413 when every refused file was too large, 415 when every one was of a type we do
    not accept, 422 otherwise (empty, damaged, or a mix); one `errors` entry per file."""
    codes = {refusal.code for refusal in error.refusals}
    if codes == {"too_large"}:
        status = 413
    elif codes <= TYPE_REFUSALS:
        status = 415
    else:
        status = 422
    detail = error.message
    if error.accepted:
        detail += (
            " Send the request again without the refused files, or with `skip_refused=true` "
            f"to attach {', '.join(error.accepted)} without them."
        )
    return problem(
        request,
        status,
        detail,
        errors=[
            {"field": "files", "message": str(refusal), "code": refusal.code}
            for refusal in error.refusals
        ],
    )


def _reject_unknown_fields(request: HttpRequest) -> None:
    """Like JSON bodies: a misspelt form field (`skip_refusd`) is a 422, not ignored."""
    unknown = sorted((set(request.POST) - UPLOAD_FIELDS) | (set(request.FILES) - {"files"}))
    if unknown:
        raise NinjaValidationError(
            [
                {"loc": ("form", name), "msg": "Unknown form field.", "type": "extra"}
                for name in unknown
            ]
        )


@router.post(
    "/{number}/attachments",
    response={
        201: UploadOut,
        403: Problem,
        404: Problem,
        409: Problem,
        413: Problem,
        415: Problem,
        422: Problem,
        503: Problem,
    },
    summary="Upload files (multipart/form-data)",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    # Unknown form fields are refused (422), like unknown JSON members.
                    "schema": {
                        "additionalProperties": False,
                        "properties": {"files": {"minItems": 1}},
                    },
                    "encoding": {"files": {"contentType": "application/octet-stream"}},
                }
            }
        }
    },
)
def attachment_upload(
    request: HttpRequest,
    ticket: VisibleTicket,
    files: File[list[UploadedFile]],
    form: Form[UploadForm],
):
    """Send one or more files under `files`; the same checks as the web forms apply
    (allowed types sniffed from the bytes, `ATTACHMENT_MAX_BYTES` each, at most
    `ATTACHMENTS_PER_TICKET` per ticket, names cleaned). Without `comment` the files are
    added to the ticket (anyone who may comment may); with it they come with a new comment.

    All or nothing: a refused file refuses the request (413 too large, 415 type not
    accepted, 422 otherwise; `errors` names each file) unless `skip_refused=true`; a storage
    outage is a 503 with nothing saved. The requester's comment on a cancelled ticket, or on
    one closed past the reopen window, is a 409 as on `/comments`: raise a follow-up ticket.
    """
    _reject_unknown_fields(request)
    user = request.auth
    if form.internal and not form.comment:
        return problem(
            request,
            422,
            "Files without a comment are never internal: send an internal `comment` with them.",
            errors=[{"field": "form.internal", "message": "Needs a comment."}],
        )
    try:
        if not form.comment:
            outcome = attachment_services.attachment_add(
                actor=user, ticket=ticket, files=files, skip_refused=form.skip_refused
            )
        else:
            outcome = attachment_services.comment_add_with_files(
                actor=user,
                ticket=ticket,
                body=form.comment,
                internal=form.internal,
                files=files,
                skip_refused=form.skip_refused,
            )
    except AttachmentsRefused as error:
        return _refused(request, error)
    except TooManyAttachments as error:
        return problem(
            request,
            422,
            error.message,
            errors=[{"field": "files", "message": error.message, "code": "too_many"}],
        )
    comment = outcome.comment
    if comment is not None:
        comment.author = user
    rows = outcome.attachments
    for row in rows:
        row.uploader = user
        row.comment_internal = comment is not None and comment.is_internal
    return Status(
        201,
        {
            "attachments": [_out(row, outcome.ticket.number) for row in rows],
            "comment": serializers.comment(comment) if comment is not None else None,
            "skipped": [_skipped(refusal) for refusal in outcome.skipped],
        },
    )


def _skipped(refusal: UploadRefused) -> dict:
    return {"name": refusal.name, "code": refusal.code, "message": refusal.message}


@router.get(
    "/{number}/attachments/{attachment_id}/download",
    url_name="attachment-download",
    response={
        200: None,
        302: None,
        404: Problem,
        503: Problem,
    },
    summary="Download a file",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file (local storage), always as an attachment unless "
                "`inline=true` for PNG, JPEG, GIF or WebP.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            },
            "302": {
                "description": "With S3/R2: a presigned URL valid for at most 5 minutes.",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
        }
    },
)
def attachment_download(
    request: HttpRequest, number: str, attachment_id: PathId, options: Query[DownloadQuery]
):
    """The same access check as the ticket page's download: 404 for a ticket you cannot
    see and, for requesters, for files of internal comments."""
    reject_unknown_query(request, DownloadQuery)
    attachment = access.get_attachment_for_user(request.auth, attachment_id)
    if attachment.ticket_id != parse_number(number):
        raise Http404("No such file on this ticket.")
    try:
        return download_response(
            get_storage(),
            attachment.storage_key,
            original_name=attachment.original_name,
            content_type=attachment.content_type,
            inline_ok=options.inline,
        )
    except StorageUnavailable:
        return problem(
            request,
            503,
            "The file storage is not answering; try again in a moment.",
            headers={"Retry-After": "30"},
        )
