"""Raising a ticket, the ticket page and the actions on it.

Every ticket is loaded with `get_ticket_for_user` (outsiders: 404); every change goes
through a service, and a refusal (`TicketError`) re-renders the page with the message and
a 4xx status, having changed nothing.
"""

import uuid
from collections.abc import Callable
from functools import partial, wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.models import User
from portal.accounts.types import AuthenticatedRequest
from portal.catalog.selectors import active_team_choices, attach_master_rows, team_member_choices
from portal.kb import access as kb_access
from portal.kb import deflection
from portal.lib import markdown
from portal.lib.dates import ShortDates
from portal.lib.http import NotVisible, parse_id, posted_data, posted_files
from portal.lib.widget_html import PYTHON_WIDGETS
from portal.tickets import (
    access,
    attachment_services,
    attachment_views,
    detail_forms_html,
    detail_html,
    form_views,
    notify,
    services,
    sla,
    transitions,
)
from portal.tickets.attachment_forms import limits_text as attachment_limits
from portal.tickets.attachment_services import AttachmentsRefused, Outcome
from portal.tickets.errors import (
    EditConflict,
    IdempotencyConflict,
    InvalidFormValues,
    TicketError,
)
from portal.tickets.family import page_family
from portal.tickets.forms import (
    AssignForm,
    CommentForm,
    FilesForm,
    MoveTeamForm,
    StatusForm,
    TicketCreateForm,
    TicketEditForm,
)
from portal.tickets.models import Comment, Status, Ticket, TicketEvent, parse_number
from portal.tickets.services import BODY_MAX, TITLE_MAX


def _follow_up_initial(request: AuthenticatedRequest) -> dict[str, Any]:
    """`?follow_up=TKT-…`: a new ticket linked to one that is over, in the same place.
    A ticket the person cannot see is a 404, as everywhere."""
    number = request.GET.get("follow_up")
    if not number:
        return {}
    old = access.get_ticket_for_user(request.user, number)
    return {
        "title": f"Follow-up to {old.number}: {old.title}"[:TITLE_MAX],
        "group": old.group_id,
        "category": old.category_id,
        "subcategory": old.subcategory_id,
        "description": f"Follow-up to [{old.number}]({old.get_absolute_url()}).\n\n",
    }


def _new_ticket_page(request, form, *, status=200, form_errors=None) -> HttpResponse:
    """The new-ticket page; the request form follows the classification chosen (or, on a
    first visit, the follow-up's), filled with what was typed."""
    request_form = form_views.form_of(form.current_id("category"), form.current_id("subcategory"))
    data = request.POST if form.is_bound else None
    context = {
        "form": form,
        "request_fields": form_views.page_fields(request_form, data, form_errors),
    }
    return render(request, "tickets/new.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_create(request: AuthenticatedRequest) -> HttpResponse:
    initial = _follow_up_initial(request)
    if request.method == "POST" and request.POST.get("prefill"):
        # The follow-up offered for a comment a closed ticket refused: the form filled in
        # with what they wrote, not yet sent.
        text = request.POST.get("description", "")[:BODY_MAX]
        initial["description"] = initial.get("description", "") + text
        return _new_ticket_page(request, TicketCreateForm(initial=initial))
    form = TicketCreateForm(posted_data(request), posted_files(request), initial=initial)
    status, form_errors = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            subcategory = data["subcategory"]
            request_form = form_views.form_of(
                data["category"].pk, subcategory.pk if subcategory else None
            )
            try:
                outcome = attachment_services.ticket_create_with_files(
                    files=data["files"],
                    skip_refused=data["skip_refused"],
                    requester=request.user,
                    title=data["title"],
                    description=data["description"],
                    group=data["group"],
                    category=data["category"],
                    subcategory=subcategory,
                    priority=data["priority"] or None,
                    idempotency_key=data["idempotency_key"],
                    form_values=form_views.values_from(request.POST, request_form),
                )
            except AttachmentsRefused as error:
                attachment_views.show_refusals(form, error)
            except InvalidFormValues as error:
                form.add_error(None, "Some request details need attention; see below.")
                form_errors = error.errors
            except TicketError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                ticket = outcome.ticket
                # The form's suggestions did not answer it: no deflection for this visit.
                deflection.visit_raised_ticket(request.POST)
                messages.success(request, f"{ticket.number} raised.")
                attachment_views.report_outcome(request, outcome)
                return attachment_views.done(request, ticket.get_absolute_url())
    return _new_ticket_page(request, form, status=status, form_errors=form_errors)


# What a requester's moves mean to them, in their words.
REQUESTER_LABELS: dict[str, str] = {
    Status.CANCELLED: "Cancel my ticket",
    Status.IN_PROGRESS: "Reopen: it is not fixed",
    Status.CLOSED: "Confirm it is fixed and close",
}


def _members(ticket: Ticket) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        # No team (None) reads as "no membership" (isnull); the service then refuses to
        # assign a ticket without a team. django-stubs expects an id here.
        team_memberships__team_id=ticket.team_id,  # type: ignore[misc]
        team_memberships__is_active=True,
    ).order_by("full_name", "email")


def _waiting_for(ticket: Ticket, events: list[TicketEvent]) -> str | None:
    """Whom an unassigned ticket waits for ("the SPOC of …" names), from the latest routing
    event the viewer may see; None when it is assigned or no such event is visible."""
    if ticket.assignee_id is not None:
        return None
    routing = [e for e in events if e.field == "assignee"]
    if routing and routing[-1].kind == TicketEvent.Kind.WAITING and routing[-1].new_value:
        return routing[-1].new_value
    return None


def _assign_fields(ticket: Ticket) -> SafeString:
    """The assign form's fields (detail_forms_html.assign_fields), the team's members from the
    cache (catalog.selectors.team_member_choices). Only shown: a post is validated by its
    own form against `_members`."""
    # Offered only for a ticket with a team (`can_assign` in `_detail_context`).
    members = team_member_choices(ticket.team_id) if ticket.team_id is not None else []
    return detail_forms_html.assign_fields(
        version=ticket.version, assignee_id=ticket.assignee_id, members=members
    )


def _move_fields(ticket: Ticket) -> SafeString:
    """The move-team form's fields (detail_forms_html.move_fields), the teams from the cache of
    master data (catalog.selectors), less the ticket's own."""
    teams = [(pk, name) for pk, name in active_team_choices() if pk != ticket.team_id]
    return detail_forms_html.move_fields(version=ticket.version, teams=teams)


def _stamp(rows: list[Comment] | list[TicketEvent], dates: ShortDates) -> None:
    """Each row's `created_at` as the `date` filter writes it, "c" (`.created_iso`) and
    "j M Y H:i" (`.created_label`), in the current time zone: the filter parses its format
    and translates the month again for every date, two per comment and per history row."""
    for row in rows:
        local = timezone.localtime(row.created_at)
        row.created_iso = local.isoformat()  # type: ignore[union-attr]
        row.created_label = dates.label(local)  # type: ignore[union-attr]


def _markdown_html(ticket: Ticket, comments: list[Comment]) -> SafeString:
    """The description's HTML (returned) and each comment's (`.body_html`), sanitised,
    from one cache read (portal/lib/markdown.py): converting them was a quarter of the
    page's time."""
    description, *bodies = markdown.render_many([ticket.description, *(c.body for c in comments)])
    for comment, body in zip(comments, bodies, strict=True):
        # The template's own attribute, beside `.files` (attachments_for_page).
        comment.body_html = mark_safe(body)  # type: ignore[attr-defined]  # noqa: S308 (markdown)
    return mark_safe(description)  # noqa: S308 (lib/markdown: sanitised, or plain prose)


def _page_html(
    request: AuthenticatedRequest,
    ticket: Ticket,
    *,
    comments: list[Comment],
    events: list[TicketEvent],
    files: list[Any],
    writes_articles: bool,
    waiting_for: str | None,
    dates: ShortDates,
) -> dict[str, Any]:
    """The page's loops as HTML (portal/tickets/detail_html.py), with one CSRF token for
    all its forms: the template's `{% csrf_token %}` tags read the same `csrf_token`."""
    token = get_token(request)
    csrf = detail_html.csrf_input(token)
    download = detail_html.url_for_pk("attachment-download")
    article_url = (
        detail_html.url_for_pk("ticket-comment-article", ticket.number) if writes_articles else None
    )
    return {
        "csrf_token": token,
        "ticket_files_html": detail_html.attachments_html(files, dates, download),
        "comment_items": detail_html.comment_items(
            comments, article_url=article_url, csrf=csrf, dates=dates, download=download
        ),
        "history_items": detail_html.history_items(events),
        "facts_html": detail_html.facts_html(
            ticket,
            waiting_for=waiting_for,
            sla_views=sla.target_views(ticket, timezone.now()),
            dates=dates,
        ),
    }


# The ticket page shows the newest comments and history rows; a ticket that gathered more
# (a long-running incident, a mail loop) says how many earlier ones there are, and
# `?comments=all` / `?history=all` show the whole part. The page's cost then stops growing
# with the ticket (412 comments and 416 changes: 17.3 ms in process shown whole, 5.9 ms
# shown so; docs/tickets.md).
NEWEST_SHOWN = 100
COMMENTS, HISTORY = "comments", "history"


def _whole_parts(request: HttpRequest) -> set[str]:
    """The parts asked for whole (`?comments=all`, `?history=all`); any other value is the
    default, the newest rows."""
    return {part for part in (COMMENTS, HISTORY) if request.GET.get(part) == "all"}


def _show_whole(ticket: Ticket, parts: set[str], part: str) -> str:
    """The ticket page's address with `parts` whole, at `part`'s heading. Absolute: a
    refused post shows the page at the form's own address, which answers only POST."""
    query = urlencode([(name, "all") for name in sorted(parts)])
    return f"{ticket.get_absolute_url()}?{query}#{part}-heading"


def _waiting_for_on_page(
    user: User, ticket: Ticket, history: access.PagePart[TicketEvent]
) -> str | None:
    """`_waiting_for` from the rows shown; should an unassigned ticket's last routing be
    older than them, from that event alone (one query, only then)."""
    waiting = _waiting_for(ticket, history.rows)
    if (
        waiting is None
        and history.earlier
        and ticket.assignee_id is None
        and not any(event.field == "assignee" for event in history.rows)
    ):
        last = access.last_routing_event(user, ticket)
        waiting = _waiting_for(ticket, [last]) if last is not None else None
    return waiting


def _detail_context(request: AuthenticatedRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """Everything the ticket page shows, in a constant number of queries.

    comments (1), events (1), each counted (1) only when there are more than the page
    shows; files (1) and related tickets (1) only when the ticket's read said it has some
    (portal/tickets/page_facts.py, which also said whether the viewer watches it); the
    team's members and the teams from the cache.
    """
    user = request.user
    roles_here = access.ticket_roles(user, ticket)
    worker = bool(roles_here & access.WORKER_ROLES)
    # Comments have their own list; their events only matter for the audit trail.
    whole = _whole_parts(request)
    history = access.page_events(user, ticket, newest=None if HISTORY in whole else NEWEST_SHOWN)
    thread = access.page_comments(user, ticket, newest=None if COMMENTS in whole else NEWEST_SHOWN)
    events, comments = history.rows, thread.rows
    dates = ShortDates()
    _stamp(comments, dates)
    _stamp(events, dates)
    can_assign = access.can_assign(user, ticket) and ticket.team_id is not None
    can_move = access.can_move_team(user, ticket)
    targets = transitions.allowed_targets(roles_here, ticket)
    requester_only = transitions.requester_only(roles_here)
    comment_reopens = requester_only and transitions.comment_reopens(ticket)
    # Sees it only as a watcher: writes publicly, never reopens (services.comment_add).
    watcher_only = roles_here == {access.WATCHER}
    # Its related tickets, and whether the viewer watches it, in one query.
    family, watching = page_family(user, ticket)
    context: dict[str, Any] = {
        "ticket": ticket,
        "family": family,
        "watching": watching,
        "comments": comments,
        "earlier_comments": thread.earlier,
        "earlier_events": history.earlier,
        "show_all_comments": _show_whole(ticket, whole | {COMMENTS}, COMMENTS),
        "show_all_history": _show_whole(ticket, whole | {HISTORY}, HISTORY),
        "description_html": _markdown_html(ticket, comments),
        # 1 query: the files the viewer may see; each comment gets its own as `.files`.
        "attachments": attachment_views.attachments_for_page(user, ticket, comments),
        "events": events,
        "waiting_for": _waiting_for_on_page(user, ticket, history),
        # Request-form answers, and labels for their history (0 queries without a form).
        "answers": form_views.answers_for_page(ticket, events),
        "is_worker": worker,
        "can_take": access.can_take(user, ticket),
        "can_edit": access.can_edit(user, ticket),
        "can_assign": can_assign,
        "can_move": can_move,
        "status_targets": [
            (value, (None if worker else REQUESTER_LABELS.get(value)) or Status(value).label)
            for value in targets
        ],
        "reopen_until": (
            ticket.resolved_at + transitions.REOPEN_WINDOW
            if ticket.status == Status.RESOLVED and ticket.resolved_at and not worker
            else None
        ),
        "requester_only": requester_only,
        # A closed ticket the requester's comment brings back (until when), or one that is
        # over for them: the page offers a follow-up ticket instead of the comment form.
        "comment_reopens_until": (transitions.reopen_deadline(ticket) if comment_reopens else None),
        "offer_follow_up": (
            (requester_only or watcher_only)
            and ticket.status in transitions.FINAL
            and not comment_reopens
        ),
        "watcher_only": watcher_only,
        # Written in Python; a refused post's bound form comes in `extra` instead.
        "assign_form": None,
        "move_form": None,
        "assign_fields": (
            _assign_fields(ticket) if can_assign and "assign_form" not in extra else None
        ),
        "move_fields": _move_fields(ticket) if can_move and "move_form" not in extra else None,
    }
    context.update(
        _page_html(
            request,
            ticket,
            comments=comments,
            events=events,
            files=context["attachments"],
            writes_articles=worker and kb_access.can_create(user),
            waiting_for=context["waiting_for"],
            dates=dates,
        )
    )
    url = detail_html.number_urls(ticket.number)
    token = context["csrf_token"]
    # The unbound comment and add-files forms are written in Python, without building
    # the Django forms (detail_forms_html.comment_fields); a refused post's bound form comes in
    # `extra` and goes through the template, as does the follow-up offer.
    limits = attachment_limits()
    nonce = str(get_nonce(request))
    context["assets_html"] = detail_html.assets_html(nonce)
    # The notices' includes write only their surrounding text when they have nothing to say.
    if not extra.get("error"):
        context["conflict_html"] = detail_html.NO_NOTICE
    if ticket.merged_into_id is None:
        context["merged_html"] = detail_html.NO_NOTICE
    if "files_form" not in extra:
        context["add_files_html"] = detail_forms_html.add_files_html(
            limits=limits, url=url, csrf=detail_html.csrf_input(token), nonce=nonce
        )
    if "comment_form" not in extra and not context["offer_follow_up"]:
        context["comment_form_html"] = detail_forms_html.comment_form_html(
            idempotency_key=uuid.uuid4(),
            limits=limits,
            url=url,
            token=token,
            is_worker=worker,
            reopens_until=context["comment_reopens_until"],
            dates=dates,
        )
    context["answers_html"] = detail_html.answers_html(context["answers"])
    context["family_html"] = detail_html.family_html(
        family, number=ticket.number, parent_id=ticket.parent_id, csrf=detail_html.csrf_input(token)
    )
    # What the template writes instead (unbound forms written by PYTHON_WIDGETS).
    if not context.get("add_files_html"):
        context["files_form"] = FilesForm(renderer=PYTHON_WIDGETS)
    if not context.get("comment_form_html"):
        context["comment_form"] = CommentForm(renderer=PYTHON_WIDGETS)
    if "assign_form" not in extra and "move_form" not in extra:
        # Written in Python (detail_forms_html.side_html); a refused assign or move shows its
        # bound form through tickets/_side.html instead.
        context["side_html"] = detail_forms_html.side_html(
            number=ticket.number,
            version=ticket.version,
            csrf=detail_html.csrf_input(context["csrf_token"]),
            watching=watching,
            watcher_only=watcher_only,
            can_take=context["can_take"],
            status_targets=context["status_targets"],
            open_children=len(family["open_children"]),
            requester_only=requester_only,
            assign_fields=context["assign_fields"],
            move_fields=context["move_fields"],
            can_edit=context["can_edit"],
            can_merge=bool(family["can_merge"]),
        )
    context.update(extra)
    return context


def _render_detail(
    request: AuthenticatedRequest, ticket: Ticket, *, status: int = 200, **extra: Any
) -> HttpResponse:
    # Its group, category, subcategory and team from the cache (four lookups otherwise).
    attach_master_rows([ticket])
    return render(
        request, "tickets/detail.html", _detail_context(request, ticket, **extra), status=status
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def ticket_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    return _render_detail(request, access.get_ticket_for_page(request.user, number))


# An action on the ticket page: None redirects back to the ticket.
type TicketAction = Callable[[AuthenticatedRequest, Ticket], HttpResponse | None]


def ticket_action(
    view: TicketAction, *, read: bool = True
) -> Callable[[AuthenticatedRequest, str], HttpResponse]:
    """POST-only action on a visible ticket; service refusals become a 4xx ticket page.

    `read=False` hands the view an unread reference (`_unread`) instead of the visible
    ticket, for a view whose service reads and locks the row itself through the access
    layer (a second access-checked read of the same row otherwise). Such a view takes the
    row that service read from what it returns (`Outcome.ticket`), never from `ticket`.
    """

    @wraps(view)
    @require_POST
    def wrapper(request: AuthenticatedRequest, number: str) -> HttpResponse:
        ticket = access.get_ticket_for_user(request.user, number) if read else _unread(number)
        try:
            result = view(request, ticket)
        except EditConflict as conflict:
            return _render_detail(
                request,
                access.get_ticket_for_page(request.user, number),
                status=conflict.status_code,
                error=conflict.message,
                conflict_changes=conflict.changes,
            )
        except TicketError as error:
            kept = {error.keep_as: error.form} if error.keep_as else {}
            return _render_detail(
                request,
                access.get_ticket_for_page(request.user, number),
                status=error.status_code,
                error=error.message,
                **kept,
            )
        return result or redirect(ticket)

    return wrapper


def _unread(number: str) -> Ticket:
    """The ticket called `number`, not read: only its id (and so its number and URL)."""
    pk = parse_number(number)
    if pk is None:
        raise NotVisible("No such ticket.")
    return Ticket(pk=pk)


class _BadForm(TicketError):
    """An action's form did not validate; `keep_as` names the context variable that shows
    the bound form again, so what the person typed is still there."""

    def __init__(self, form: Form, keep_as: str | None = None) -> None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        super().__init__(f"Please correct the form: {errors}")
        self.form, self.keep_as = form, keep_as


def _valid(form: Form, keep_as: str | None = None) -> dict[str, Any]:
    if not form.is_valid():
        raise _BadForm(form, keep_as)
    return form.cleaned_data


@ticket_action
def ticket_take(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    services.ticket_take(
        actor=request.user,
        ticket=ticket,
        # `parse_id`, not `int()`: "²" passes str.isdigit() and then fails int() (a 500).
        expected_version=parse_id(request.POST.get("version")),
    )
    messages.success(request, f"{ticket.number} is yours.")
    return None  # back to the ticket page


@ticket_action
def ticket_status(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    data = _valid(StatusForm(request.POST))
    if data["status"] == Status.CANCELLED and not data["confirmed"]:
        current = services.ticket_change_status_check(
            actor=request.user,
            ticket=ticket,
            status=data["status"],
            expected_version=data["version"],
        )
        return _confirm_cancel(request, current, data)
    updated = services.ticket_change_status(
        actor=request.user,
        ticket=ticket,
        status=data["status"],
        reason=data["reason"],
        expected_version=data["version"],
        with_open_children=data["with_open_children"],
    )
    messages.success(request, f"{ticket.number} is now {updated.get_status_display()}.")
    return None  # back to the ticket page


def _confirm_cancel(
    request: AuthenticatedRequest, ticket: Ticket, data: dict[str, Any]
) -> HttpResponse:
    """Cancelling asks again, naming who will be told (the same lists the change uses)."""
    followers, holders = notify.status_recipients(
        ticket, actor=request.user, new_status=Status.CANCELLED
    )
    requester_told = any(user.pk == ticket.requester_id for user in followers)
    watchers = len(followers) - int(requester_told)
    return render(
        request,
        "tickets/confirm_cancel.html",
        {
            "ticket": ticket,
            "version": data["version"],
            "reason": data["reason"],
            "told": [str(user) for user in holders]
            + ([str(ticket.requester)] if requester_told else []),
            "watchers": watchers,
        },
    )


@ticket_action
def ticket_assign(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    data = _valid(AssignForm(request.POST, members=_members(ticket)), keep_as="assign_form")
    services.ticket_assign(
        actor=request.user,
        ticket=ticket,
        assignee=data["assignee"],
        reason=data["reason"],
        expected_version=data["version"],
    )
    messages.success(request, f"{ticket.number} reassigned.")
    return None  # back to the ticket page


@ticket_action
def ticket_move_team(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    data = _valid(MoveTeamForm(request.POST), keep_as="move_form")
    services.ticket_move_team(
        actor=request.user,
        ticket=ticket,
        team=data["team"],
        reason=data["reason"],
        expected_version=data["version"],
    )
    messages.success(request, f"{ticket.number} moved to {data['team'].name}.")
    if not access.visible_tickets(request.user).filter(pk=ticket.pk).exists():
        # Moved out of the mover's reach: its page would be a 404 now.
        return redirect("ticket-list")
    return None  # back to the ticket page


@partial(ticket_action, read=False)
def comment_add(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    """`ticket` is unread: a comment without files is one service call, which reads the
    ticket locked through the access layer (outsiders: 404 from there); the other paths
    read it here first."""
    form = CommentForm(request.POST, request.FILES)
    if not form.is_valid() or form.cleaned_data["files"]:
        ticket = access.get_ticket_for_user(request.user, ticket.number)
    if not form.is_valid():
        return _render_detail(
            request, ticket, status=400, comment_form=form, error="The comment is empty."
        )
    return _store_files(
        request,
        ticket,
        form,
        "comment_form",
        lambda: attachment_services.comment_add_with_files(
            actor=request.user,
            ticket=ticket,
            body=form.cleaned_data["body"],
            internal=form.cleaned_data["internal"],
            files=form.cleaned_data["files"],
            skip_refused=form.cleaned_data["skip_refused"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        ),
        success="Comment added.",
    )


@ticket_action
def ticket_files(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    """Files for the ticket without a comment (a screenshot asked for, a signed form)."""
    form = FilesForm(request.POST, request.FILES)
    _valid(form, keep_as="files_form")
    return _store_files(
        request,
        ticket,
        form,
        "files_form",
        lambda: attachment_services.attachment_add(
            actor=request.user,
            ticket=ticket,
            files=form.cleaned_data["files"],
            skip_refused=form.cleaned_data["skip_refused"],
        ),
    )


def _store_files(
    request: AuthenticatedRequest,
    ticket: Ticket,
    form: Form,
    form_name: str,
    store: Callable[[], Outcome],
    *,
    success: str = "",
) -> HttpResponse:
    """Run an attachment service; refusals and failures bring the form back (as
    `form_name`) with the message, so nothing the person chose or typed is lost."""
    try:
        outcome = store()
    except AttachmentsRefused as error:
        summary = attachment_views.show_refusals(form, error)
        return _render_detail(request, ticket, status=400, error=summary, **{form_name: form})
    except IdempotencyConflict as error:
        # The key went with another comment: what they typed comes back under a fresh key,
        # so sending it now adds it.
        data = request.POST.copy()
        data["idempotency_key"] = str(uuid.uuid4())
        error.form, error.keep_as = type(form)(data), form_name
        raise
    except TicketError as error:
        # Storage down or too many files.
        error.form, error.keep_as = form, form_name
        raise
    if success:
        messages.success(request, success)
    attachment_views.report_outcome(request, outcome)
    return attachment_views.done(request, ticket.get_absolute_url())


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_edit(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """Edit against the version shown; a stale save shows what changed and keeps the input."""
    ticket = access.get_ticket_for_user(request.user, number)
    if not access.can_edit(request.user, ticket):
        return _render_detail(
            request, ticket, status=403, error="Only people working this ticket can edit it."
        )
    initial = {
        "version": ticket.version,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "group": ticket.group_id,
        "category": ticket.category_id,
        "subcategory": ticket.subcategory_id,
    }
    form = TicketEditForm(posted_data(request), initial=initial)
    # The request form of the classification shown (the one chosen, once posted), filled
    # with what was typed or, at first, with the ticket's answers.
    request_form = form_views.form_of(form.current_id("category"), form.current_id("subcategory"))
    typed = request.POST if request.method == "POST" else None
    inputs = typed or form_views.stored_as_inputs(ticket.form_values, request_form)
    context = {
        "ticket": ticket,
        "form": form,
        "request_fields": form_views.page_fields(request_form, inputs),
    }
    if request.method != "POST":
        return render(request, "tickets/edit.html", context)
    if not form.is_valid():
        return render(request, "tickets/edit.html", context, status=400)
    data = form.cleaned_data
    try:
        services.ticket_update(
            actor=request.user,
            ticket=ticket,
            expected_version=data["version"],
            title=data["title"],
            description=data["description"],
            priority=data["priority"],
            category=data["category"],
            subcategory=data["subcategory"],
            form_values=form_views.values_from(request.POST, request_form),
        )
    except InvalidFormValues as error:
        form.add_error(None, "Some request details need attention; see below.")
        context["request_fields"] = form_views.page_fields(request_form, inputs, error.errors)
        return render(request, "tickets/edit.html", context, status=400)
    except EditConflict as conflict:
        # Keep what they typed; the form now carries the current version, so saving again
        # is a deliberate choice made after seeing the changes.
        ticket.refresh_from_db()
        post = request.POST.copy()
        post["version"] = str(ticket.version)
        form = TicketEditForm(post, initial=initial)
        context.update(
            form=form,
            error=conflict.message,
            conflict_changes=conflict.changes,
        )
        return render(request, "tickets/edit.html", context, status=409)
    except TicketError as error:
        form.add_error(None, error.message)
        return render(request, "tickets/edit.html", context, status=error.status_code)
    messages.success(request, f"{ticket.number} saved.")
    return redirect(ticket)


@ticket_action
def ticket_watch(request: AuthenticatedRequest, ticket: Ticket) -> HttpResponse | None:
    watch = request.POST.get("watch") != "0"
    services.ticket_watch(actor=request.user, ticket=ticket, watch=watch)
    messages.success(
        request,
        f"You will be told about changes to {ticket.number}."
        if watch
        else f"You will no longer be told about {ticket.number} as a watcher.",
    )
    if not watch and not access.visible_tickets(request.user).filter(pk=ticket.pk).exists():
        # They saw it only as a watcher: its page is now a 404 for them.
        return redirect("ticket-list")
    return None  # back to the ticket page
