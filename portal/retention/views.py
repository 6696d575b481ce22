"""The admins' retention page: each rule with its period, and the latest runs' counts."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.decorators import admin_required
from portal.retention.models import RetentionRun
from portal.retention.services import RULES

RUNS_SHOWN = 20


@admin_required(reason="Only admins can see data retention.")
@require_GET
def retention_page(request: HttpRequest) -> HttpResponse:
    runs = list(RetentionRun.objects.all()[:RUNS_SHOWN])
    labels = {rule.code: rule.label for rule in RULES}
    return render(
        request,
        "retention/page.html",
        {
            "rules": [(rule, rule.days()) for rule in RULES],
            "runs": [
                (run, [(labels.get(code, code), n) for code, n in run.counts.items()])
                for run in runs
            ],
        },
    )
