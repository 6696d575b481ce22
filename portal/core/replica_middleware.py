"""Turns replica reads on for the pages that tolerate staleness, and keeps a writer's reads
on the primary for a while after they wrote (read-your-writes). See docs/scaling.md.

Read-your-writes is a signed cookie, not a session flag: a session flag would cost a session
write on every change (and API clients with a token have no session), while the cookie costs
the server nothing. It carries no data but its signing time; a forged or expired one is
ignored, and the worst a client can do with it is send its own reads to the primary.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from portal.lib.db import UNAVAILABLE_ERRORS
from portal.lib.replica import (
    mark_replica_down,
    replica_configured,
    replica_reads,
    reset_replica_reads,
    set_replica_reads,
)

# URL names whose reads may come from the replica: read-only reports and exports ...
REPLICA_ROUTES = frozenset(
    {"analytics", "analytics-kb", "analytics-csv", "ticket-export", "catalog-export", "kb-export"}
)
# ... and lists when they search (the "q" parameter); the same list unfiltered stays on the
# primary, where a person looks for the ticket they just raised.
SEARCH_ROUTES = frozenset({"ticket-list"})

WROTE_COOKIE = "primary_reads"
_SALT = "portal.core.replica.read-your-writes"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wrote_recently(request: HttpRequest) -> bool:
    return (
        request.get_signed_cookie(
            WROTE_COOKIE,
            default=None,
            salt=_SALT,
            max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS,
        )
        is not None
    )


def wants_replica(request: HttpRequest) -> bool:
    match = request.resolver_match
    if request.method not in ("GET", "HEAD") or match is None or wrote_recently(request):
        return False
    return match.url_name in REPLICA_ROUTES or (
        match.url_name in SEARCH_ROUTES and bool(request.GET.get("q", "").strip())
    )


class ReplicaReadsMiddleware:
    """Last in MIDDLEWARE, so the session and user are always read from the primary.

    `process_view` turns replica reads on for the view (Django then runs it, renders its
    template and calls every middleware's `process_exception` as usual); `__call__` turns
    them off again when the response is made. A streamed export is read after that, so its
    content is wrapped to read on the replica too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        request._replica_reads = False  # type: ignore[attr-defined]
        token = set_replica_reads(False)
        try:
            response = self.get_response(request)
        finally:
            reset_replica_reads(token)
        if request.method not in _SAFE_METHODS:
            # Whatever the outcome: a refused write changed nothing, but telling the two
            # apart is not worth a replica read that misses a change.
            response.set_signed_cookie(
                WROTE_COOKIE,
                "1",
                salt=_SALT,
                max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if getattr(request, "_replica_reads", False) and isinstance(
            response, StreamingHttpResponse
        ):
            # An export is read while it is sent, after this method returns.
            response.streaming_content = _on_replica(response.streaming_content)
        return response

    def process_view(self, request: HttpRequest, view, args, kwargs) -> None:
        if replica_configured() and wants_replica(request):
            request._replica_reads = True  # type: ignore[attr-defined]
            set_replica_reads(True)  # reset by __call__

    def process_exception(self, request: HttpRequest, exception: Exception):
        """The replica stopped between two checks. These views only read, so the same view
        runs again on the primary: the person sees the page, not an error."""
        if not getattr(request, "_replica_reads", False):
            return None
        if not isinstance(exception, UNAVAILABLE_ERRORS):
            return None
        mark_replica_down(exception.__class__.__name__)
        request._replica_reads = False  # type: ignore[attr-defined]
        set_replica_reads(False)
        match = request.resolver_match
        assert match is not None  # noqa: S101 (process_view ran, so the URL resolved)
        # Django renders a template response afterwards, still with replica reads off.
        return match.func(request, *match.args, **match.kwargs)


def _on_replica(content):
    with replica_reads():
        yield from content
