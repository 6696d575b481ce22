"""A report's period from its query string (`?from=YYYY-MM-DD&to=YYYY-MM-DD`)."""

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone


def period_from_query(request: HttpRequest, *, days: int) -> tuple[dt.date, dt.date, list[str]]:
    """`from` and `to` (by default the last `days` days, today included) and the errors
    to show: a value that is not a date falls back to its default and says so."""
    today = timezone.localdate()
    errors = []
    values = {}
    for name, default in (("from", today - dt.timedelta(days=days - 1)), ("to", today)):
        raw = request.GET.get(name, "")
        try:
            values[name] = dt.date.fromisoformat(raw) if raw else default
        except ValueError:
            errors.append(f"“{raw[:20]}” is not a date (YYYY-MM-DD).")
            values[name] = default
    if values["from"] > values["to"]:
        errors.append("The period ends before it starts.")
    return values["from"], values["to"], errors
