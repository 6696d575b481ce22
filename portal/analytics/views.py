"""The dashboard, the analytics page and its CSV downloads."""

import csv
import datetime as dt
import io
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from portal.accounts.decorators import works_tickets_required
from portal.accounts.roles import user_roles
from portal.analytics import charts, figures, filter_fields, kept, scoped, sla, svg, tracking
from portal.analytics.dashboard import dashboard_context
from portal.analytics.models import PageView
from portal.analytics.period import AnalyticsForm
from portal.lib.spreadsheet_cells import neutralise
from portal.tickets import access
from portal.tickets.access import visible_tickets, worker_scope
from portal.tickets.models import OPEN_STATUSES

USAGE_DAYS = 30
# /analytics is a documented route whose existence is no secret: 403 with a reason.
ANALYTICS = "Analytics is for people who work tickets."


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Everyone's landing page: their figures, each linked to the list it counts."""
    return render(request, "analytics/dashboard.html", dashboard_context(request.user))


def work_tickets(user):
    """The tickets analytics counts: those `user` works on (their teams, their groups, or
    all for an admin), not ones they merely raised: a SPOC sees only their groups."""
    return visible_tickets(user).filter(worker_scope(user))


def _filters(form: AnalyticsForm) -> scoped.Filters:
    """The validated filters as rollup dimensions (the same as `form.condition()`)."""
    data = form.cleaned_data
    ids = {f"{name}_id": data[name].pk for name in ("group", "category", "team") if data.get(name)}
    return scoped.Filters(**ids, priority=data.get("priority") or "")


def _usage(days: int = USAGE_DAYS) -> charts.Chart:
    """Page views per section over the last `days` days (one query, after writing the
    counts still in the cache)."""
    tracking.flush_page_views()
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    rows = (
        PageView.objects.filter(day__gte=since)
        .values("section")
        .annotate(n=Sum("views"))
        .order_by("-n", "section")
    )
    return charts.usage_chart([(r["section"], r["n"]) for r in rows], days)


def _bad_request(request: HttpRequest, form: AnalyticsForm) -> HttpResponse:
    return render(
        request,
        "analytics/analytics.html",
        {"form": form, "error": form.error_text()},
        status=400,
    )


@require_GET
@works_tickets_required(reason=ANALYTICS)
def analytics(request: HttpRequest) -> HttpResponse:
    """Period, filters, headline figures and every chart with its table and CSV link."""
    form = AnalyticsForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    key, entry = _kept(request, form)
    if entry.html is None:
        # The results depend only on what the key holds: drawn once per kept entry.
        context = _results_context(form, entry, admin=user_roles(request.user).is_admin)
        entry.html = render_to_string(kept.RESULTS_TEMPLATE, context)
        kept.put(key, entry)
    context = {
        "form": form,
        "filter_fields": filter_fields.rendered(form),
        # Our own template's output, escaped when it was rendered.
        "results": mark_safe(entry.html),  # noqa: S308
    }
    return render(request, "analytics/analytics.html", context)


def _kept(request: HttpRequest, form: AnalyticsForm) -> tuple[str, kept.Kept]:
    """(key, entry) of the figures of the viewer's scope, filters and period: the kept
    ones when they are young enough (kept.py), else computed now and kept."""
    period = form.get_period()
    key = kept.key_of(access.reach_of(request.user), form.query(), period)
    entry = kept.get(key)
    if entry is None:
        now = timezone.now()
        filters = _filters(form)
        result = figures.compute_for(request.user, filters, period, now=now)
        # One more query: % of SLA targets met per group, team and priority.
        compliance = sla.compliance(scoped.work_tickets(request.user, filters), period, now=now)
        entry = kept.Kept(as_of=now, figures=result, sla=compliance)
        kept.put(key, entry)
    return key, entry


def _results_context(form: AnalyticsForm, entry: kept.Kept, *, admin: bool) -> dict:
    """What `_results.html` draws; `admin` (part of the key: an admin's scope is
    everything) adds the page-usage chart."""
    result = entry.figures
    built = charts.build(result)
    if admin:
        built["usage"] = _usage()
    query = form.query()
    period = result.period
    created_params = [
        ("view", "all"),
        ("created_from", period.first_day.isoformat()),
        ("created_to", period.last_day.isoformat()),
        *_filter_params(form),
    ]
    open_params = [("view", "all"), *[("status", s) for s in OPEN_STATUSES], *_filter_params(form)]
    list_url = reverse("ticket-list")
    return {
        "figures": result,
        "as_of": entry.as_of,
        "sla": entry.sla,
        "first_response_p50": human_duration(result.first_response[0.5]),
        "first_response_p90": human_duration(result.first_response[0.9]),
        "resolution_p50": human_duration(result.resolution[0.5]),
        "resolution_p90": human_duration(result.resolution[0.9]),
        "period": period,
        "query": query,
        "created_url": f"{list_url}?{urlencode(created_params)}",
        "open_url": f"{list_url}?{urlencode(open_params)}",
        "charts": [
            {
                "chart": chart,
                "drawing": svg.draw(chart),
                "csv": f"{reverse('analytics-csv', args=[key])}?{query}",
            }
            for key, chart in built.items()
        ],
    }


def human_duration(seconds: float | None) -> str:
    """3725.0 → "1 h 2 min"; None (nothing to measure) → "–"."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _filter_params(form: AnalyticsForm) -> list[tuple[str, str]]:
    """The analytics filters as ticket-list parameters (the list has the same names)."""
    data = form.cleaned_data
    params = [
        (name, str(data[name].pk)) for name in ("group", "category", "team") if data.get(name)
    ]
    if data.get("priority"):
        params.append(("priority", data["priority"]))
    return params


@require_GET
@works_tickets_required(reason=ANALYTICS)
def chart_csv(request: HttpRequest, chart: str) -> HttpResponse:
    """One chart's table as CSV, for the same period and filters as the page."""
    if chart not in charts.CHART_KEYS:
        raise Http404("No such chart.")
    if chart == "usage":
        if not user_roles(request.user).is_admin:
            raise PermissionDenied("Usage counts are for admins.")
        data = _usage()
    else:
        form = AnalyticsForm(request.GET)
        if not form.is_valid():
            return HttpResponse(
                f"Invalid parameters: {form.error_text()}",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        data = charts.build(_kept(request, form)[1].figures)[chart]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(data.label), *[neutralise(name) for name in data.series]])
    for label, values in data.rows:
        writer.writerow([neutralise(label), *values])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analytics-{chart}.csv"'
    return response
