"""Merging from the ticket page: a picker of tickets to merge into, a confirmation step,
then the merge (merge_services.py). Refusals answer a short page with the message and
the 4xx status, having changed nothing; a ticket the person cannot see is a 404.

The picker only ever lists tickets the person works (`access.worked_tickets`), so it
shows no title they could not read on the ticket's own page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.types import AuthenticatedRequest
from portal.tickets import access, merge_services, search
from portal.tickets.errors import TicketError
from portal.tickets.models import OPEN_STATUSES, Attachment, Comment, Ticket, parse_number

PICKER_LIMIT = 10
QUERY_MAX = 100


def _worked(request: AuthenticatedRequest, number: str) -> Ticket:
    ticket = access.get_ticket_for_user(request.user, number)
    if not access.is_worker(request.user, ticket):
        raise PermissionDenied("Only people working this ticket can merge it.")
    return ticket


def merge_candidates(user, ticket: Ticket, query: str) -> list[Ticket]:
    """Open tickets `user` works that `ticket` could be merged into: those matching
    `query` (a number, or words of the title, description or comments), or without one
    the same requester's other open tickets (the usual duplicate). At most PICKER_LIMIT."""
    worked = access.worked_tickets(user).filter(status__in=OPEN_STATUSES).exclude(pk=ticket.pk)
    order = ["-updated_at", "-id"]
    if not query:
        rows = worked.filter(requester_id=ticket.requester_id).order_by(*order)
        return list(rows[:PICKER_LIMIT])
    ids = search.page_ids(worked, user, query, order_by=order, after=None, limit=PICKER_LIMIT)
    return list(worked.filter(pk__in=ids).order_by(*order)[:PICKER_LIMIT])


@never_cache
@require_http_methods(["GET", "HEAD"])
def merge_targets(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """The picker's choices (an htmx partial): tickets to merge this one into."""
    ticket = _worked(request, number)
    query = search.normalise(request.GET.get("q", ""))[:QUERY_MAX]
    return render(
        request,
        "tickets/_merge_targets.html",
        {"ticket": ticket, "candidates": merge_candidates(request.user, ticket, query),
         "query": query},
    )  # fmt: skip


def _refused(
    request: AuthenticatedRequest, ticket: Ticket, error: TicketError, action: str = "merged"
) -> HttpResponse:
    context = {"ticket": ticket, "error": error.message, "action": action}
    return render(request, "tickets/refused.html", context, status=error.status_code)


@require_POST
def ticket_merge(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """Without `confirm`: the confirmation page (what moves where). With it: the merge."""
    ticket = access.get_ticket_for_user(request.user, number)
    # The picker's choice, else what was typed in its search box (works without script).
    into = (request.POST.get("into") or request.POST.get("q") or "").strip()[:40]
    if parse_number(into) is None:
        error = TicketError("Choose the ticket to merge this one into (its number).")
        return _refused(request, ticket, error)
    try:
        if request.POST.get("confirm") != "1":
            duplicate, survivor = merge_services.merge_preview(
                actor=request.user, ticket=ticket, into_number=into
            )
            return render(
                request,
                "tickets/merge_confirm.html",
                {"duplicate": duplicate, "survivor": survivor,
                 # Through the access layer like every read of a ticket's parts (the
                 # person works the duplicate: every comment and file counts).
                 "comments": Comment.objects.visible_to(request.user, duplicate).count(),
                 "files": Attachment.objects.visible_to(request.user, duplicate).count()},
            )  # fmt: skip
        survivor = merge_services.ticket_merge(actor=request.user, ticket=ticket, into_number=into)
    except TicketError as error:
        return _refused(request, ticket, error)
    messages.success(request, f"{ticket.number} was merged into {survivor.number}.")
    return redirect(survivor)


@require_POST
def ticket_parent(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """Set (`parent` = a number) or remove (`remove`) the ticket's parent."""
    ticket = access.get_ticket_for_user(request.user, number)
    parent = "" if request.POST.get("remove") else (request.POST.get("parent") or "").strip()[:40]
    if not parent and not request.POST.get("remove"):
        error = TicketError("Type the number of the parent ticket.")
        return _refused(request, ticket, error, action="changed")
    try:
        merge_services.ticket_set_parent(actor=request.user, ticket=ticket, parent_number=parent)
    except TicketError as error:
        return _refused(request, ticket, error, action="changed")
    messages.success(
        request, f"{ticket.number} is now part of {parent}." if parent else "Parent removed."
    )
    return redirect(ticket)
