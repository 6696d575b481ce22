"""Canned replies: the management pages and the picker on the ticket page.

The picker is two htmx requests: the search (`reply_picker`, GET, the matching replies as
buttons) and the insertion (`reply_insert`, POST with the comment box's current text, the
comment box back with the filled-in reply appended). Nothing is stored until the person
sends the comment through the usual form.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.decorators import works_tickets_required
from portal.lib.http import posted_data
from portal.replies import access, services
from portal.replies.forms import ReplyForm
from portal.replies.placeholders import PLACEHOLDERS, fill
from portal.tickets import access as ticket_access
from portal.tickets.errors import TicketError
from portal.tickets.forms import CommentForm
from portal.tickets.services import BODY_MAX

WORKERS_ONLY = "Canned replies are for people who work tickets."
PICKER_LIMIT = 20
QUERY_MAX = 100


def _placeholders() -> list[tuple[str, str]]:
    return [("{" + name + "}", label) for name, (label, _) in PLACEHOLDERS.items()]


@never_cache
@works_tickets_required(reason=WORKERS_ONLY)
@require_http_methods(["GET", "HEAD"])
def reply_list(request: HttpRequest) -> HttpResponse:
    """Your replies and your teams' (every team's for admins): 1 query for the replies."""
    replies = list(access.visible_replies(request.user).order_by("team__name", "title", "id"))
    for reply in replies:
        reply.manageable = access.can_manage(request.user, reply)
    return render(
        request,
        "replies/list.html",
        {
            "personal": [r for r in replies if r.is_personal],
            "shared": [r for r in replies if not r.is_personal],
        },
    )


def _save(request, form, template: str, context: dict, save) -> HttpResponse:
    if request.method != "POST":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        save(form)
    except TicketError as error:
        form.add_error(None, error.message)
        return render(request, template, context, status=error.status_code)
    return redirect("reply-list")


@never_cache
@works_tickets_required(reason=WORKERS_ONLY)
@require_http_methods(["GET", "HEAD", "POST"])
def reply_create(request: HttpRequest) -> HttpResponse:
    form = ReplyForm(posted_data(request), teams=access.shareable_teams(request.user))

    def save(form):
        reply = services.canned_reply_create(
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            team=form.team(),
        )
        messages.success(request, f"Canned reply “{reply.title}” saved.")

    context = {"form": form, "placeholders": _placeholders()}
    return _save(request, form, "replies/form.html", context, save)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = access.get_reply_for_user(request.user, pk, manage=True)
    form = ReplyForm(posted_data(request), initial={"title": reply.title, "body": reply.body})

    def save(form):
        services.canned_reply_update(
            actor=request.user,
            reply=reply,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        )
        messages.success(request, f"Canned reply “{form.cleaned_data['title']}” saved.")

    context = {"form": form, "reply": reply, "placeholders": _placeholders()}
    return _save(request, form, "replies/form.html", context, save)


@require_POST
def reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = access.get_reply_for_user(request.user, pk, manage=True)
    try:
        services.canned_reply_delete(actor=request.user, reply=reply)
    except TicketError as error:
        raise PermissionDenied(error.message) from error
    messages.success(request, f"Canned reply “{reply.title}” deleted.")
    return redirect("reply-list")


def _worked_ticket(request: HttpRequest, number: str):
    """The ticket (404 for anyone who cannot see it), for people working it (403 else)."""
    ticket = ticket_access.get_ticket_for_user(request.user, number)
    if not ticket_access.is_worker(request.user, ticket):
        raise PermissionDenied("Canned replies are for people working this ticket.")
    return ticket


@never_cache
@require_http_methods(["GET", "HEAD"])
def reply_picker(request: HttpRequest, number: str) -> HttpResponse:
    """The replies matching `q` (title or text) that may be used on this ticket."""
    ticket = _worked_ticket(request, number)
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    replies = access.usable_replies(request.user, ticket)
    if query:
        replies = replies.filter(Q(title__icontains=query) | Q(body__icontains=query))
    rows = list(replies.order_by("title", "id")[: PICKER_LIMIT + 1])
    return render(
        request,
        "replies/_results.html",
        {
            "ticket": ticket,
            "replies": rows[:PICKER_LIMIT],
            "more": len(rows) > PICKER_LIMIT,
            "query": query,
        },
    )


@require_POST
def reply_insert(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """The comment box again, holding what was typed and the filled-in reply after it."""
    ticket = _worked_ticket(request, number)
    reply = access.get_usable_reply(request.user, ticket, pk)
    typed = request.POST.get("body", "").rstrip()
    filled = fill(reply.body, ticket=ticket, agent=request.user)
    text = f"{typed}\n\n{filled}" if typed else filled
    form = CommentForm(initial={"body": text[:BODY_MAX]})
    form.fields["body"].widget.attrs["autofocus"] = True
    return render(
        request,
        "replies/_comment_body.html",
        {"field": form["body"], "reply": reply, "too_long": len(text) > BODY_MAX},
    )
