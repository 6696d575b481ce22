"""htmx helpers: one place that knows how htmx identifies its requests."""

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """True for requests htmx sends (not for boosted full-page navigations' history restores)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
