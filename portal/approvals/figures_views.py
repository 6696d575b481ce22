"""/analytics/approvals: approved, rejected, approval rate and hours to approval per
category over a period (`?from=`, `?to=`), and the same table as CSV. Admins see every
group's; a SPOC sees their own groups' (`access.figures_scope`); anyone else gets 403."""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.accounts.types import AuthenticatedRequest
from portal.approvals import access, selectors
from portal.lib.periods import period_from_query
from portal.lib.spreadsheet_cells import neutralise

PERIOD_DAYS = 30
COLUMNS = ["category", "approved", "rejected", "total", "approval %", "hours to approval"]


@never_cache
@require_http_methods(["GET", "HEAD"])
def figures(request: AuthenticatedRequest, fmt: str = "html") -> HttpResponse:
    scope = access.figures_scope(request.user)
    if scope is None:
        raise PermissionDenied("Only admins and the groups' SPOCs see approval figures.")
    start, end, errors = period_from_query(request, days=PERIOD_DAYS)
    rows = [] if errors else selectors.figures(start=start, end=end, scope=scope)
    if fmt == "csv" and not errors:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="approvals-{start}-{end}.csv"'
        writer = csv.writer(response)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    neutralise(row["name"]),
                    row["approved"],
                    row["rejected"],
                    row["total"],
                    "" if row["approval_percent"] is None else row["approval_percent"],
                    "" if row["hours_to_approval"] is None else row["hours_to_approval"],
                ]
            )
        return response
    context = {
        "rows": rows, "start": start, "end": end, "errors": errors,
        "own_groups_only": bool(scope),
    }  # fmt: skip
    return render(request, "approvals/figures.html", context, status=400 if errors else 200)
