"""The dashboard and analytics pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest) -> HttpResponse:
    """Everyone's landing page."""
    return render(request, "core/dashboard.html")
