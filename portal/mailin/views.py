"""Email in's pages: the admins' mailbox health page and triage queue, and the raw mail
an agent opens from the ticket page."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.accounts.roles import is_admin
from portal.accounts.types import AuthenticatedRequest
from portal.attachments.downloads import download_response
from portal.attachments.storage import StorageUnavailable, get_storage
from portal.mailin import triage
from portal.mailin.health import mailbox_health
from portal.mailin.models import InboundMessage
from portal.tickets import access
from portal.tickets.errors import TicketError
from portal.tickets.models import Ticket

TRIAGE_ONLY = "Only admins can classify the mail in the triage queue."


@admin_required(reason="Only admins can see the support mailboxes.")
@require_GET
def health_page(request: AuthenticatedRequest) -> HttpResponse:
    now = timezone.now()
    rows = mailbox_health(now=now)
    return render(
        request,
        "mailin/health.html",
        {
            "rows": [(row, row.token_state(now), row.watching(now)) for row in rows],
            "now": now,
            "poll_seconds": settings.PERIODIC_TASKS.get("portal.mailin.tasks.poll_mailboxes"),
        },
    )


@require_http_methods(["GET", "HEAD"])
def raw_mail(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """A message exactly as it arrived, for the people who work its ticket (404 for
    everyone else, requesters included: the raw mail may hold what the page leaves out,
    quoted history and refused files). A kept message without a ticket is for admins."""
    row = InboundMessage.objects.filter(pk=pk).exclude(raw_key="").first()
    if row is None:
        raise Http404("No such message.")
    if row.ticket_id is None:
        allowed = is_admin(request.user)
    else:
        ticket = Ticket.objects.visible_to(request.user).filter(pk=row.ticket_id).first()
        allowed = ticket is not None and access.is_worker(request.user, ticket)
    if not allowed:
        raise Http404("No such message.")
    try:
        return download_response(
            get_storage(),
            row.raw_key,
            original_name=f"message-{row.pk}.eml",
            content_type="message/rfc822",
        )
    except StorageUnavailable:
        response = HttpResponse(
            "The mail storage does not answer; try again in a minute.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "30"
        return response


@admin_required(reason=TRIAGE_ONLY)
@require_GET
def triage_page(request: AuthenticatedRequest) -> HttpResponse:
    return _triage_page(request)


def _triage_page(
    request: AuthenticatedRequest, *, status: int = 200, error_for: int | None = None,
    error: str = "",
) -> HttpResponse:  # fmt: skip
    return render(
        request,
        "mailin/triage.html",
        {
            "page": triage.waiting(page=request.GET.get("page")),
            "choices": triage.classifications(),
            "error_for": error_for,
            "error": error,
        },
        status=status,
    )


@admin_required(reason=TRIAGE_ONLY)
@require_POST
def triage_classify(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Classify a waiting mail: its ticket is raised and routed; the page of the new
    ticket follows. A refusal shows the queue again with the reason (4xx), nothing written."""
    try:
        category, subcategory = triage.resolve(request.POST.get("classification", ""))
        ticket = triage.inbound_triage_classify(
            actor=request.user, message_pk=pk, category=category, subcategory=subcategory
        )
    except InboundMessage.DoesNotExist:
        raise Http404("No such message.") from None
    except TicketError as refusal:
        return _triage_page(
            request, status=refusal.status_code, error_for=pk, error=refusal.message
        )
    except StorageUnavailable:
        return _triage_page(
            request, status=503, error_for=pk,
            error="The mail storage does not answer; try again in a minute.",
        )  # fmt: skip
    messages.success(request, f"Raised {ticket.number} from the mail and routed it.")
    return redirect(ticket.get_absolute_url())


@admin_required(reason=TRIAGE_ONLY)
@require_POST
def triage_dismiss(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        row = triage.inbound_triage_dismiss(actor=request.user, message_pk=pk)
    except InboundMessage.DoesNotExist:
        raise Http404("No such message.") from None
    except TicketError as refusal:
        return _triage_page(
            request, status=refusal.status_code, error_for=pk, error=refusal.message
        )
    messages.success(request, f"Dismissed the mail from {row.sender}; no ticket was raised.")
    return redirect("mailbox-triage")
