"""Attachments on the ticket pages: the access-checked download, and helpers the ticket
views use to show files and per-file refusals.

Downloads apply the ticket's access rules (`get_ticket_for_user`: 404 for anyone who may
not see the ticket) and the internal-comment rule (files of an internal comment are for
the people working the ticket: 404 for the requester), then hand over to the generic
`download_response` (a stream from local storage, or a redirect to a presigned S3 URL
after a bounded check that the storage answers; if it does not, the portal's own 503 page).
"""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.accounts.selectors import naming
from portal.accounts.types import AuthenticatedRequest
from portal.attachments.downloads import download_response
from portal.attachments.storage import StorageUnavailable, get_storage
from portal.tickets import access, page_facts
from portal.tickets.attachment_services import AttachmentsRefused, Outcome
from portal.tickets.models import Attachment, format_number

# What a 503 for a file asks the browser (and the API client) to wait before trying again.
RETRY_AFTER_SECONDS = "30"


@require_http_methods(["GET", "HEAD"])
def attachment_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The file, if the viewer may see its ticket (and its comment, when internal)."""
    attachment = access.get_attachment_for_user(request.user, pk)
    try:
        return download_response(
            get_storage(),
            attachment.storage_key,
            original_name=attachment.original_name,
            content_type=attachment.content_type,
            inline_ok=request.GET.get("inline") == "1",
        )
    except StorageUnavailable:
        # The portal's own page, not the bucket's XML error or a redirect that never loads.
        response = render(
            request,
            "tickets/file_unavailable.html",
            {"ticket_url": reverse("ticket-detail", args=[format_number(attachment.ticket_id)])},
            status=503,
        )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        response["Cache-Control"] = "no-store"
        return response


def attachments_for_page(user, ticket, comments: list) -> list[Attachment]:
    """The ticket's files the viewer may see, in one query (none when the page's read of
    the ticket says it has no files); each comment gets `.files`.

    Returns the files that belong to the ticket itself (raised with it or added without a
    comment). Files of internal comments are left out for non-workers.
    """
    files: Iterable[Attachment] = []  # when the page's read of the ticket found none at all
    if not page_facts.known_empty(ticket, "files"):
        files = naming(Attachment.objects.visible_to(user, ticket), "uploader")
    by_comment = defaultdict(list)
    for item in files:
        by_comment[item.comment_id].append(item)
    for comment in comments:
        comment.files = by_comment.get(comment.pk, [])
    return by_comment.get(None, [])


def show_refusals(form, error: AttachmentsRefused) -> str:
    """One error per refused file on the form's file field, and the offer to skip them.

    Returns the summary (also the form's non-field error) for pages that show it apart.
    """
    for refusal in error.refusals:
        form.add_error("files", str(refusal))
    summary = error.message
    if error.accepted:
        form.offer_skip = True
        summary += (
            " Choose the files again without the refused ones, or tick "
            f"“{form.fields['skip_refused'].label}” to send "
            f"{', '.join(error.accepted)} without them."
        )
    form.add_error(None, summary)
    return summary


def report_outcome(request: HttpRequest, outcome: Outcome) -> None:
    """Success messages naming the files stored and any the person chose to leave out."""
    if outcome.attachments:
        count = len(outcome.attachments)
        messages.success(request, f"{count} file{'s' if count > 1 else ''} attached.")
    for refusal in outcome.skipped:
        messages.warning(request, f"Not attached: {refusal}")


def done(request: HttpRequest, url: str) -> HttpResponse:
    """The redirect after a saved form; for the upload script, 204 with X-Redirect.

    XMLHttpRequest follows redirects itself: the page it fetched would show (and use up)
    the "saved" message, and the browser would then load the page again without it.
    """
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return HttpResponse(status=204, headers={"X-Redirect": url})
    return redirect(url)
