"""Admin screens for business calendars, holidays and SLA policies (admins only)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.decorators import admin_required
from portal.lib.forms import add_service_errors
from portal.lib.http import posted_data
from portal.sla import selectors, services
from portal.sla.forms import CalendarForm, HolidayForm, HolidayImportForm, PolicyForm
from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy, time_zone_names

SERVICE_LEVELS = "Only admins can manage service levels."


@admin_required(reason=SERVICE_LEVELS)
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sla/index.html",
        {"calendars": selectors.calendar_list(), "policies": selectors.policy_list()},
    )


@admin_required(reason=SERVICE_LEVELS)
@require_http_methods(["GET", "POST"])
def calendar_create(request: HttpRequest) -> HttpResponse:
    form = CalendarForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.calendar_create(
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
                is_default=form.cleaned_data["is_default"],
                hours=form.cleaned_data["hours"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Calendar “{calendar.name}” created.")
            return redirect("sla-calendar", calendar_id=calendar.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "sla/calendar_create.html",
        {"form": form, "time_zones": sorted(time_zone_names())},
        status=status,
    )


def _calendar_page(
    request, calendar, *, form=None, holiday_form=None, import_form=None, status=200
):
    return render(
        request,
        "sla/calendar_edit.html",
        {
            "calendar": calendar,
            "form": form or CalendarForm(calendar=calendar),
            "holiday_form": holiday_form or HolidayForm(calendar=calendar),
            "import_form": import_form or HolidayImportForm(),
            "holidays": calendar.holidays.order_by("date"),
            "time_zones": sorted(time_zone_names()),
        },
        status=status,
    )


@admin_required(reason=SERVICE_LEVELS)
@require_http_methods(["GET", "POST"])
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    if request.method == "GET":
        return _calendar_page(request, calendar)
    form = CalendarForm(request.POST, calendar=calendar)
    if form.is_valid():
        try:
            services.calendar_update(
                calendar=calendar,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
                is_default=form.cleaned_data["is_default"],
                hours=form.cleaned_data["hours"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Calendar “{calendar.name}” saved.")
            return redirect("sla-calendar", calendar_id=calendar.pk)
    calendar.refresh_from_db()  # the page heading shows the stored name, not the typed one
    return _calendar_page(request, calendar, form=form, status=400)


@admin_required(reason=SERVICE_LEVELS)
@require_POST
def holiday_add(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    form = HolidayForm(request.POST, calendar=calendar)
    if form.is_valid():
        try:
            holiday = services.holiday_add(
                calendar=calendar, date=form.cleaned_data["date"], name=form.cleaned_data["name"]
            )
        except ValidationError as error:  # e.g. the date is already a holiday
            add_service_errors(form, error)
        else:
            messages.success(request, f"Holiday {holiday} added.")
            return redirect("sla-calendar", calendar_id=calendar.pk)
    return _calendar_page(request, calendar, holiday_form=form, status=400)


@admin_required(reason=SERVICE_LEVELS)
@require_POST
def holiday_delete(request: HttpRequest, calendar_id: int, holiday_id: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=holiday_id, calendar_id=calendar_id)
    services.holiday_delete(holiday=holiday)
    messages.success(request, f"Holiday {holiday} removed.")
    return redirect("sla-calendar", calendar_id=calendar_id)


@admin_required(reason=SERVICE_LEVELS)
@require_POST
def holiday_import(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    form = HolidayImportForm(request.POST)
    if form.is_valid():
        try:
            result = services.holidays_import(calendar=calendar, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Imported: {result.created} added, {result.renamed} renamed, "
                f"{result.unchanged} already there.",
            )
            return redirect("sla-calendar", calendar_id=calendar.pk)
    return _calendar_page(request, calendar, import_form=form, status=400)


@admin_required(reason=SERVICE_LEVELS)
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    return _policy_form(request, SlaPolicy(), "sla/policy_form.html")


@admin_required(reason=SERVICE_LEVELS)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    return _policy_form(request, policy, "sla/policy_form.html")


def _policy_form(request: HttpRequest, policy: SlaPolicy, template: str) -> HttpResponse:
    creating = policy.pk is None
    title = "New policy" if creating else policy.name  # before the form edits the instance
    form = PolicyForm(posted_data(request), instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(policy=form.instance)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            verb = "created" if creating else "saved"
            messages.success(request, f"Policy “{form.instance.name}” {verb}.")
            return redirect("sla-index")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        template,
        {"form": form, "policy": policy, "creating": creating, "title": title},
        status=status,
    )
