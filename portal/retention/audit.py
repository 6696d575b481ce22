"""The audit export: the ticket history or the security log of a period as CSV or JSON,
for admins.

Ticket history rows come from the access layer (`access.history_of` over the tickets the
admin may see, which is every ticket); security log rows from `accounts.SecurityEvent`
(every `portal.security` log line, see `accounts/security_log.py`). Both oldest first,
streamed in chunks so a long period never sits in memory. Values are codes as stored
(status `in_progress`, not "In progress"); CSV cells that a spreadsheet would run as a
formula are neutralised.
"""

import csv
import datetime as dt
import json

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.accounts.decorators import admin_required
from portal.accounts.models import SecurityEvent
from portal.lib.spreadsheet_cells import neutralise
from portal.tickets import access
from portal.tickets.models import Ticket

MAX_DAYS = 366
COLUMNS = ("at", "ticket", "actor", "kind", "field", "old", "new", "reason", "internal")
SECURITY_COLUMNS = ("at", "level", "event", "user", "actor", "email", "ip", "details")


class PeriodForm(forms.Form):
    start = forms.DateField(input_formats=["%Y-%m-%d"])
    end = forms.DateField(input_formats=["%Y-%m-%d"], help_text="Inclusive.")
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("json", "JSON")], initial="csv")
    log = forms.ChoiceField(
        choices=[("history", "Ticket history"), ("security", "Security log")],
        initial="history",
        required=False,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and not (0 <= (end - start).days < MAX_DAYS):
            raise forms.ValidationError(
                f"The period runs forwards and spans at most {MAX_DAYS} days."
            )
        return data


class _Echo:
    def write(self, value):
        return value


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    return since, dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def _security_rows(start: dt.date, end: dt.date):
    since, until = _bounds(start, end)
    events = (
        SecurityEvent.objects.filter(created_at__gte=since, created_at__lt=until)
        .select_related("user", "actor")
        .order_by("created_at", "id")
    )
    for event in events.iterator(chunk_size=2000):
        yield {
            "at": event.created_at.isoformat(),
            "level": event.level,
            "event": event.event,
            "user": event.user.email if event.user else "",
            "actor": event.actor.email if event.actor else "",
            "email": event.email,
            "ip": event.ip_address or "",
            "details": event.details,
        }


def _rows(user, start: dt.date, end: dt.date):
    since, until = _bounds(start, end)
    events = (
        access.history_of(Ticket.objects.visible_to(user))
        .filter(created_at__gte=since, created_at__lt=until)
        .select_related("ticket", "actor")
        .order_by("created_at", "id")
    )
    for event in events.iterator(chunk_size=2000):
        yield {
            "at": event.created_at.isoformat(),
            "ticket": event.ticket.number,
            "actor": event.actor.email if event.actor_id else "",
            "kind": event.kind,
            "field": event.field,
            "old": event.old_value,
            "new": event.new_value,
            "reason": event.reason,
            "internal": event.is_internal,
        }


@admin_required(reason="Only admins can export the audit trail.")
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(" ".join(map(str, e)) for e in form.errors.values())
        return HttpResponse(
            f"Choose a period (start and end as YYYY-MM-DD): {errors}",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    start, end, fmt = (form.cleaned_data[k] for k in ("start", "end", "format"))
    if form.cleaned_data["log"] == "security":
        rows, columns, what = _security_rows(start, end), SECURITY_COLUMNS, "security-log"
    else:
        rows, columns, what = _rows(request.user, start, end), COLUMNS, "ticket-history"
    name = f"{what}-{start:%Y%m%d}-{end:%Y%m%d}"
    if fmt == "json":
        response = StreamingHttpResponse(_json_lines(rows), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow([neutralise(_cell(row[c])) for c in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _cell(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


def _json_lines(rows):
    """One JSON array, written a row at a time."""
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"
