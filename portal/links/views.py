"""Adding and removing links from the ticket page (POST only; refusals re-render a short
page with the message and the 4xx status, having changed nothing)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.links import services
from portal.tickets import access
from portal.tickets.errors import TicketError


def _refused(request, ticket, error: TicketError) -> HttpResponse:
    context = {"ticket": ticket, "error": error.message}
    return render(request, "links/refused.html", context, status=error.status_code)


@require_POST
def link_add(request: HttpRequest, number: str) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, number)
    try:
        link = services.ticket_link_add(
            actor=request.user,
            ticket=ticket,
            target_number=request.POST.get("target", "")[:40],
            kind=request.POST.get("kind", ""),
        )
    except TicketError as error:
        return _refused(request, ticket, error)
    messages.success(request, f"Linked to {link.target.number}.")
    return redirect(ticket)


@require_POST
def link_remove(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, number)
    try:
        services.ticket_link_remove(actor=request.user, ticket=ticket, link_id=pk)
    except TicketError as error:
        return _refused(request, ticket, error)
    messages.success(request, "Link removed.")
    return redirect(ticket)
