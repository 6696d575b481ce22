"""Security middleware Django does not ship."""

import json
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ExtraSecurityHeadersMiddleware:
    """Permissions-Policy, and X-XSS-Protection: 0.

    The seed sent `X-XSS-Protection: 1; mode=block`. Browsers have removed that filter, and
    where it survives it can be abused to blank out or leak parts of a page; current OWASP
    advice is to send `0` and rely on the Content-Security-Policy instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("X-XSS-Protection", "0")
        return response


class RejectMalformedInputMiddleware:
    """A NUL byte in a query string or form field is never legitimate: answer 400 early.

    PostgreSQL refuses NUL in text, so letting one through turns a typo or a probe into a
    500 deep inside a view. Form fields also reject NUL themselves; this catches the rest.
    The REST API's JSON and multipart bodies are checked by its parser (portal/api/parser.py),
    which can name the field and runs after the ticket access check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get(
            "QUERY_STRING", ""
        ):
            return _refusal(
                request, 400, "The address contains a NUL character, which is not allowed."
            )
        # Only url-encoded forms: parsing a multipart body here would read every upload
        # before views can apply their own limits (forms still refuse NUL in text fields).
        # Not the REST API's: its parser refuses them after the ticket access check, so an
        # outsider's answer (404) never depends on the body.
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and not request.path.startswith("/api/")
        ):
            for key, values in request.POST.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return _refusal(
                        request, 400, "The form contains a NUL character, which is not allowed."
                    )
        return self.get_response(request)


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """Plain text for pages; RFC 9457 problem+json for the REST API, like its other errors."""
    if request.path.startswith("/api/"):
        # The same problem types as portal/api/problems.py (which lib cannot import).
        slug = {400: "bad-request", 413: "too-large"}.get(status, "bad-request")
        body = {"type": f"urn:portal:problem:{slug}", "title": HTTPStatus(status).phrase,
                "status": status, "detail": message}  # fmt: skip
        return HttpResponse(
            json.dumps(body), status=status, content_type="application/problem+json"
        )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    """Refuse a request body over MAX_REQUEST_BYTES with 413 before anything reads it.

    Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not file uploads, which it
    spools to disk: without this a client could make us write gigabytes before a view
    says no. Per-file limits are the attachment validator's job; this is the outer wall.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(request, 400, "The Content-Length header is not a number.")
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return _refusal(
                request,
                413,
                f"The request is too large ({length // 1_048_576} MB); the limit is "
                f"{limit // 1_048_576} MB. Attach fewer or smaller files.",
            )
        return self.get_response(request)


class NotVisibleMiddleware:
    """Answers `lib.http.NotVisible` with the portal's own 404 page, even with DEBUG on.

    With DEBUG on Django would show its technical 404 (every URL pattern of the site);
    the page configured as `handler404` is what the people following such links see in
    production, so development shows them the same. Other 404s keep Django's debug page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from django.urls import get_resolver

        from portal.lib.http import NotVisible

        if not isinstance(exception, NotVisible):
            return None
        handler = get_resolver().resolve_error_handler(404)
        # django-stubs types every error handler as taking the request alone; a 404 handler
        # also takes the exception (Django calls `handler404(request, exception)`).
        return handler(request, exception)  # type: ignore[call-arg]
