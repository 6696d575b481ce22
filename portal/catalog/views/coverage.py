"""The coverage report and its one-click "add mapping" form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import admin_required
from portal.accounts.redirects import safe_next_url
from portal.catalog import coverage, services
from portal.catalog.forms import CoverageAddForm
from portal.catalog.models import BusinessUnitGroup
from portal.catalog.views.common import MASTER_DATA, PER_PAGE, bad_request
from portal.lib.htmx import is_htmx
from portal.lib.http import parse_id


@admin_required(reason=MASTER_DATA)
@require_GET
def coverage_report(request: HttpRequest) -> HttpResponse:
    groups = list(BusinessUnitGroup.objects.active().order_by("name"))
    group_id = None
    if raw := request.GET.get("group"):
        group_id = parse_id(raw)
        if group_id not in {g.pk for g in groups}:
            return bad_request("Choose an active group from the list to filter by.")
    sub_page = Paginator(coverage.subcategory_gaps(group_id=group_id), PER_PAGE).get_page(
        request.GET.get("page")
    )
    cat_page = Paginator(coverage.category_gaps(group_id=group_id), PER_PAGE).get_page(
        request.GET.get("cpage")
    )
    categories = [s.category for s in sub_page] + list(cat_page)
    suggestions = coverage.suggest_teams(categories)
    return render(
        request,
        "catalog/masters/coverage.html",
        {
            "groups": groups,
            "group_id": group_id,
            "summary": coverage.summary(group_id=group_id),
            "sub_page": sub_page,
            "cat_page": cat_page,
            "teams": coverage.active_teams(),
            "suggestions": suggestions,
            "priorities": CoverageAddForm.base_fields["default_priority"].choices,
            "problems": coverage.problems(),
        },
    )


@admin_required(reason=MASTER_DATA)
@require_POST
def coverage_add(request: HttpRequest) -> HttpResponse:
    """Map one gap to a team. htmx swaps the row for a confirmation; without JS, redirect."""
    form = CoverageAddForm(request.POST)
    error = None
    mapping = None
    scope = request.POST.get("scope", "subcategory")
    if scope not in ("subcategory", "category"):
        return bad_request("Unknown scope: use subcategory or category.")
    if form.is_valid():
        # "Map the whole category" routes every subcategory without its own mapping.
        whole_category = scope == "category"
        try:
            mapping = services.mapping_create(
                category=form.cleaned_data["category"],
                subcategory=None if whole_category else form.cleaned_data["subcategory"],
                team=form.cleaned_data["team"],
                default_priority=form.cleaned_data["default_priority"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose a team for this combination."
    if is_htmx(request):
        summary = None
        if mapping is not None and mapping.subcategory_id is not None:
            # The report's summary (gaps, percentage) for the group it is narrowed to, if
            # any, is swapped in out of band; a wrong group gets the counts of all groups.
            group_id = parse_id(request.POST.get("group"))
            if group_id and not BusinessUnitGroup.objects.active().filter(pk=group_id).exists():
                group_id = None
            summary = coverage.summary(group_id=group_id)
        response = render(
            request,
            "catalog/masters/coverage_done.html",
            {"mapping": mapping, "error": error, "summary": summary},
            # htmx does not swap 4xx responses; the row itself carries the error.
            status=200,
        )
        if mapping is not None and mapping.subcategory_id is None:
            # Several rows may have closed at once: reload the report, which says so.
            response["HX-Refresh"] = "true"
            messages.success(request, f"Mapped {mapping}.")
        return response
    if mapping is None and error and not form.is_valid():
        return bad_request(error)
    if mapping is None:
        messages.error(request, error)
    else:
        messages.success(request, f"Mapped {mapping}.")
    next_url = request.POST.get("next")
    return redirect(safe_next_url(next_url) if next_url else "coverage")
