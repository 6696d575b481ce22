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
from portal.lib.replica import mark_replica_down, replica_configured, replica_reads

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
    """Last in MIDDLEWARE, so the session and user are always read from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        request._replica_reads = False  # type: ignore[attr-defined]
        response = self.get_response(request)
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

    def process_view(self, request: HttpRequest, view, args, kwargs):
        if not replica_configured() or not wants_replica(request):
            return None
        request._replica_reads = True  # type: ignore[attr-defined]
        with replica_reads():
            try:
                response = view(request, *args, **kwargs)
                # Templates render their querysets now, while the replica is still chosen.
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
                return response
            except UNAVAILABLE_ERRORS as exc:
                # The replica stopped between two checks. These views only read, so Django
                # runs the same view again, on the primary: the person sees the page.
                mark_replica_down(exc.__class__.__name__)
        request._replica_reads = False  # type: ignore[attr-defined]
        return None


def _on_replica(content):
    with replica_reads():
        yield from content
