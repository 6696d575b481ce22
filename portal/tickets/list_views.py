"""The ticket list, its CSV export and bulk actions: one filter definition for all three."""

import csv
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import works_tickets_required
from portal.accounts.roles import user_roles
from portal.accounts.types import AuthenticatedRequest
from portal.catalog.models import Priority
from portal.catalog.selectors import active_team_choices
from portal.lib import keyset
from portal.lib.dates import ShortDates
from portal.lib.htmx import is_htmx
from portal.lib.spreadsheet_cells import neutralise
from portal.tickets import services, sla
from portal.tickets.access import visible_tickets
from portal.tickets.errors import TicketError
from portal.tickets.filters import TicketFilter, available_views
from portal.tickets.forms import BulkForm
from portal.tickets.list_row_html import options_html, row_html
from portal.tickets.models import Status, Ticket, parse_number

EXPORT_LIMIT = 50_000
# Filters folded under "More filters" (open when one of them is in use).
MORE_FILTERS = (
    "group", "category", "subcategory", "answer", "team", "assignee", "requester", "sla_state",
    "created_from", "created_to", "updated_from", "updated_to", "per_page",
)  # fmt: skip


def _encoded(query: QueryDict) -> list[tuple[str, str]]:
    """(name, `name=value`) for each value of `query`, encoded as QueryDict.urlencode does:
    the page's links (saved views, first and next page, export) are joined from these
    pieces instead of copying and encoding the query again for each."""
    return [(name, urlencode({name: value})) for name, values in query.lists() for value in values]


def _with_view(pairs: list[tuple[str, str]], key: str) -> str:
    """The query with `view` set to `key` (where `view` was, else last) and no cursor:
    switching saved view keeps the other filters but starts from the first page."""
    view, parts = urlencode({"view": key}), []
    for name, pair in pairs:
        if name == "view":
            if view:
                parts.append(view)
            view = ""
        elif name != "after":
            parts.append(pair)
    return "&".join([*parts, view] if view else parts)


@require_GET
def ticket_list(request: AuthenticatedRequest) -> HttpResponse:
    """Saved view + filters + sort + cursor, all in the URL; htmx swaps only the results."""
    ticket_filter = TicketFilter(request.GET, request.user)
    tickets, next_cursor, error, status = [], None, "", 200
    if ticket_filter.is_valid():
        try:
            tickets, next_cursor = ticket_filter.page()
        except keyset.BadCursor as bad:
            error, status = str(bad), 400
    elif is_htmx(request):
        # Only the results are swapped, not the form with its messages under the fields.
        error, status = _filter_errors(ticket_filter), 400
    else:
        error, status = "Some filters are not valid; see the messages below them.", 400
    pairs = _encoded(request.GET)
    base = [pair for name, pair in pairs if name != "after"]
    roles = user_roles(request.user)
    context = {
        "filter": ticket_filter,
        "form": ticket_filter.form,
        "tickets": tickets,
        "next_query": "&".join([*base, urlencode({"after": next_cursor})]) if next_cursor else "",
        "first_query": "&".join(base),
        "is_paged": bool(request.GET.get("after")),
        "query_string": "&".join(pair for _, pair in pairs),
        "views": [(key, label, _with_view(pairs, key)) for key, label in available_views(roles)],
        # A view this person is not offered falls back to "all" in the form, so the next
        # change of filter recovers instead of repeating the error.
        "current_view": request.GET.get("view")
        if request.GET.get("view") in dict(available_views(roles))
        else "all",
        "can_bulk": roles.works_tickets,
        # The bulk form's options, written in Python (list_row_html): the teams are (id,
        # name) pairs from the cache, no query until master data changes.
        "bulk_team_options": options_html(active_team_choices()) if roles.works_tickets else "",
        "bulk_status_options": options_html(Status.choices) if roles.works_tickets else "",
        "error": error,
        # An htmx answer also fills the page's status region with a short summary.
        "announce": is_htmx(request),
        "more_fields": [ticket_filter.form[name] for name in MORE_FILTERS],
        "more_filters_open": any(request.GET.get(name) for name in MORE_FILTERS),
    }
    # The rows as one piece of HTML: a variable per row in the template's loop cost more
    # than writing them (list_row_html).
    context["rows"] = mark_safe(  # noqa: S308 (row_html escapes every value)
        "".join(row_html(row, can_bulk=roles.works_tickets) for row in list_rows(tickets))
    )
    template = "tickets/_results.html" if is_htmx(request) else "tickets/list.html"
    return render(request, template, context, status=status)


_NUMBER = "TKT-0"  # any number: the ticket URL is its prefix + the number + its suffix


def list_rows(tickets: list[Ticket], now=None) -> list[dict]:
    """What each row of the list shows, as plain values computed once in Python.

    The template used to reach into each ticket a dozen times, format two dates through the
    `date` filter (with its per-call format lookups), reverse the ticket's URL twice and
    render the SLA badge through an inclusion tag: most of the list's rendering time in the
    profile (docs/benchmarks.md). The output is the same HTML; `list_row_html.row_html`
    escapes every value.
    """
    now = now or timezone.now()
    # timezone.localtime looks the active time zone up for every call: once per page here.
    zone = timezone.get_current_timezone()
    before, after = reverse("ticket-detail", args=[_NUMBER]).split(_NUMBER)
    # Labels translated once per page (in the language of this request), not per cell.
    dates = ShortDates()
    status_labels = {value: str(label) for value, label in Status.choices}
    priority_labels = {value: str(label) for value, label in Priority.choices}
    rows = []
    for t in tickets:
        number = t.number
        updated = t.updated_at.astimezone(zone)
        state = sla.ticket_state(t, now)
        due = sla.next_due(t) if state else None
        due_local = due.astimezone(zone) if due else None
        classification = f"{t.group} / {t.category}"
        if t.subcategory:
            classification += f" / {t.subcategory}"
        rows.append(
            {
                "number": number,
                "url": before + number + after,
                "title": t.title,
                "status": t.status,
                "status_label": status_labels.get(t.status, t.status),
                "priority_label": priority_labels.get(t.priority, t.priority),
                "classification": classification,
                "team": str(t.team) if t.team else "—",
                "assignee": str(t.assignee) if t.assignee else "—",
                "requester": str(t.requester),
                "updated_iso": updated.isoformat(),
                "updated": dates.label(updated),
                "sla_state": state,
                "sla_label": sla.STATE_LABELS[state] if state else "",
                "sla_due_iso": due_local.isoformat() if due_local else "",
                "sla_due": dates.label(due_local, year=False) if due_local else "",
            }
        )
    return rows


def _filter_errors(ticket_filter: TicketFilter) -> str:
    form = ticket_filter.form
    problems = "; ".join(
        f"{form[name].label if name in form.fields else 'Filters'}: "
        f"{' '.join(str(error) for error in errors)}"
        for name, errors in form.errors.items()
    )
    return f"Some filters are not valid. {problems}"


class _Echo:
    def write(self, value):
        return value


@require_GET
def ticket_export(request: AuthenticatedRequest) -> HttpResponse | StreamingHttpResponse:
    """The current filtered list as CSV (no comments: nothing internal can leak)."""
    ticket_filter = TicketFilter(request.GET, request.user)
    if not ticket_filter.is_valid():
        errors = "; ".join(
            f"{k}: {' '.join(str(e) for e in v)}" for k, v in ticket_filter.form.errors.items()
        )
        return HttpResponse(
            f"Invalid filters: {errors}", status=400, content_type="text/plain; charset=utf-8"
        )
    rows = (
        ticket_filter.ordered().select_related(
            "requester", "group", "category", "subcategory", "team", "assignee"
        )[:EXPORT_LIMIT]  # fmt: skip
    )
    writer = csv.writer(_Echo())
    header = [
        "Number", "Title", "Status", "Priority", "Group", "Category", "Subcategory", "Team",
        "Assignee", "Requester", "Created", "Updated", "Resolved", "Closed",
        "SLA policy", "SLA state", "First response due", "Resolution due", "Form values",
    ]  # fmt: skip
    now = timezone.now()

    def lines():
        yield writer.writerow(header)
        for t in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    neutralise(value)
                    for value in (
                        t.number,
                        t.title,
                        t.get_status_display(),
                        t.get_priority_display(),
                        t.group.name,
                        t.category.name,
                        t.subcategory.name if t.subcategory else "",
                        t.team.name if t.team else "",
                        t.assignee.email if t.assignee else "",
                        t.requester.email,
                        t.created_at.isoformat(),
                        t.updated_at.isoformat(),
                        t.resolved_at.isoformat() if t.resolved_at else "",
                        t.closed_at.isoformat() if t.closed_at else "",
                        *_sla_cells(t, now),
                        # The request form's answers as JSON by field code (codes, ISO
                        # dates, user ids): one column whatever mix of forms is exported.
                        json.dumps(t.form_values, ensure_ascii=False) if t.form_values else "",
                    )
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tickets-{stamp}.csv"'
    return response


def _sla_cells(ticket, now) -> tuple[str, str, str, str]:
    """Policy, state (the list badge) and both due times, from stored fields (no queries);
    a due time is empty while its clock is paused, all four without an SLA."""
    views = sla.target_views(ticket, now)
    if not views:
        return ("", "", "", "")
    state = sla.worst_state(views)
    due = [view.due_at for view in views]  # in TARGETS order: response, resolution
    return (
        ticket.sla_policy_name,
        sla.STATE_LABELS[state] if state else "",
        *(value.isoformat() if value else "" for value in due),
    )


@require_POST
@works_tickets_required(reason="Bulk actions are for people who work tickets.")
def ticket_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Apply one action to the ticked tickets through the same services and checks."""
    form = BulkForm(request.POST)
    back = reverse("ticket-list")
    query = QueryDict(request.POST.get("query", ""))
    if query:
        back += "?" + query.urlencode()
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"Nothing was changed: {errors}")
        return redirect(back)
    data = form.cleaned_data
    pks = [pk for pk in (parse_number(n) for n in data["numbers"]) if pk is not None]
    tickets = visible_tickets(request.user).filter(pk__in=pks).order_by("pk")
    done, failed = [], []
    for ticket in tickets:
        try:
            if data["action"] == "take":
                services.ticket_take(actor=request.user, ticket=ticket)
            elif data["action"] == "status":
                services.ticket_change_status(
                    actor=request.user, ticket=ticket, status=data["status"], reason=data["reason"]
                )
            else:
                services.ticket_move_team(
                    actor=request.user, ticket=ticket, team=data["team"], reason=data["reason"]
                )
            done.append(ticket.number)
        except TicketError as error:
            failed.append(f"{ticket.number}: {error.message}")
    missing = len(pks) - len(done) - len(failed)
    if done:
        messages.success(request, f"Updated {len(done)}: {', '.join(done)}.")
    for line in failed:
        messages.error(request, line)
    if missing:
        messages.error(request, f"{missing} ticket(s) were not found.")
    return redirect(back)
