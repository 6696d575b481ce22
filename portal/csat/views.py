"""Rating pages: the signed email link, the form on the ticket page, and the figures.

The email's links open `/rate/<token>?score=good|bad`, a page with that answer chosen and
an optional comment; the rating is recorded by its POST. A GET records nothing because
mail scanners and link previews open every link in a message: a rating recorded on GET
would often be theirs.
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.decorators import works_tickets_required
from portal.csat import links, selectors, services
from portal.csat.models import COMMENT_MAX, Score
from portal.lib.periods import period_from_query
from portal.tickets import access
from portal.tickets.errors import TicketError
from portal.tickets.models import Ticket

PERIOD_DAYS = 30


@never_cache
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = links.read_token(token)
    except links.BadLink as error:
        return render(request, "csat/rate.html", {"error": error.message}, status=400)
    # The token names the ticket; only its number and title are shown.
    ticket = access.system_read(Ticket).filter(pk=target.ticket_id).first()
    if ticket is None:
        return render(
            request, "csat/rate.html", {"error": "This ticket no longer exists."}, status=404
        )
    context = {
        "ticket": ticket,
        "score": request.POST.get("score") or request.GET.get("score"),
        "comment": request.POST.get("comment", "")[:COMMENT_MAX],
        "scores": Score.choices,
        "comment_max": COMMENT_MAX,
    }
    if request.method != "POST":
        return render(request, "csat/rate.html", context)
    try:
        services.rating_record(
            actor=None,
            ticket_id=target.ticket_id,
            resolved_at=target.resolved_at,
            score=context["score"] or "",
            comment=context["comment"],
        )
    except TicketError as error:
        return render(
            request, "csat/rate.html", {**context, "error": error.message}, status=error.status_code
        )
    return render(request, "csat/thanks.html", {"ticket": ticket})


@require_POST
def ticket_rate(request: HttpRequest, number: str) -> HttpResponse:
    """The form on the ticket page (the requester, signed in)."""
    ticket = access.get_ticket_for_user(request.user, number)
    try:
        services.rating_record(
            actor=request.user,
            ticket_id=ticket.pk,
            resolved_at=ticket.resolved_at,
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", ""),
        )
    except TicketError as error:
        context = {"ticket": ticket, "error": error.message, "back": True}
        return render(request, "csat/rate.html", context, status=error.status_code)
    messages.success(request, "Thank you for rating the resolution.")
    return redirect(ticket)


@never_cache
@works_tickets_required
@require_http_methods(["GET", "HEAD"])
def satisfaction(request: HttpRequest, fmt: str = "html") -> HttpResponse:
    """Good and bad ratings per team, agent or category over a period, for the tickets the
    viewer works (admins: all); `?by=`, `?from=`, `?to=`; `.csv` for the same table."""
    by = request.GET.get("by", "team")
    start, end, errors = period_from_query(request, days=PERIOD_DAYS)
    if by not in selectors.DIMENSIONS:
        errors.append("Group by team, agent or category.")
        by = "team"
    rows = [] if errors else selectors.figures(request.user, by=by, start=start, end=end)
    status = 400 if errors else 200
    if fmt == "csv" and not errors:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="satisfaction-{by}-{start}-{end}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow([by, "good", "bad", "total", "good %"])
        for row in rows:
            name = row["name"]
            # A name starting with = + - @ would be a formula in a spreadsheet.
            if name[:1] in ("=", "+", "-", "@"):
                name = "'" + name
            writer.writerow([name, row["good"], row["bad"], row["total"], row["good_percent"]])
        return response
    totals = {
        "good": sum(r["good"] for r in rows),
        "bad": sum(r["bad"] for r in rows),
    }
    totals["total"] = totals["good"] + totals["bad"]
    context = {
        "rows": rows,
        "totals": totals,
        "by": by,
        "start": start,
        "end": end,
        "errors": errors,
        "dimensions": list(selectors.DIMENSIONS),
    }
    return render(request, "csat/satisfaction.html", context, status=status)
