"""/analytics/knowledge-base: requests the knowledge base answered before they were raised.

A deflection is a new-ticket form whose person opened a suggested article and did not
raise the ticket from that form (portal/kb/deflection.py). The page shows them per
category and the articles that deflected most, for a period; people who work tickets
only, like /analytics.
"""

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.analytics.period import Period
from portal.analytics.views import works_tickets_required
from portal.catalog.models import BusinessUnitGroup
from portal.kb.selectors import deflection_report

PERIODS = {"7": 7, "30": 30, "90": 90}


class DeflectionForm(forms.Form):
    period = forms.ChoiceField(
        choices=[("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")],
        required=False,
    )
    group = forms.ModelChoiceField(
        BusinessUnitGroup.objects.order_by("name"), required=False, empty_label="Any"
    )

    def get_period(self) -> Period:
        days = PERIODS[self.cleaned_data.get("period") or "30"]
        today = timezone.localdate()
        return Period(today - dt.timedelta(days=days - 1), today)


@require_GET
@works_tickets_required
def knowledge_base(request: HttpRequest) -> HttpResponse:
    form = DeflectionForm(request.GET)
    if not form.is_valid():
        return render(request, "analytics/knowledge_base.html", {"form": form}, status=400)
    period = form.get_period()
    group = form.cleaned_data.get("group")
    report = deflection_report(
        since=period.start, until=period.end, group_id=group.pk if group else None
    )
    return render(
        request,
        "analytics/knowledge_base.html",
        {"form": form, "period": period, "report": report},
    )
