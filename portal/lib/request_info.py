"""Facts about the client of a request."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; behind NUM_PROXIES trusted proxies, read from X-Forwarded-For.

    Only the entries our own proxies appended are trusted (counted from the right), so a
    client cannot pick its own address by sending the header itself.
    """
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "NUM_PROXIES", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        validate_ipv46_address(candidate)
    except ValidationError:
        return None
    return candidate
