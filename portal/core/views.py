"""Health check and error pages."""

import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.core import health
from portal.lib.db import UNAVAILABLE_ERRORS

security_log = logging.getLogger("portal.security")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For monitoring: every check (database, worker, task backlog, storage); 503 when any
    fails, naming it. Not for load balancers: a stopped worker must not take pages down."""
    healthy, body = health.full_report()
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@never_cache
@require_GET
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 while this server can serve pages (the database answers)."""
    healthy, detail = health.check_database()
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "database": detail},
        status=200 if healthy else 503,
    )


@login_not_required
@never_cache
@require_GET
def healthz_live(request: HttpRequest) -> JsonResponse:
    """For process supervisors: the process answers. Touches nothing else, so a database
    outage never gets healthy web servers restarted."""
    return JsonResponse({"status": "ok"})


@login_not_required
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """Anonymous visitors are sent to sign in for *any* unknown path.

    So nobody can probe which pages exist without an account, and every section of the
    portal (built or not) answers an anonymous visitor the same way.
    """
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    security_log.warning(
        "permission denied",
        extra={"user_id": getattr(request.user, "pk", None), "path": request.path},
    )
    return render(request, "errors/403.html", {"reason": str(exception or "")}, status=403)


@login_not_required
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


# How long clients (and the people reading the 503 page) should wait before trying again.
RETRY_AFTER_SECONDS = 30


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: context processors read the session and the user from
    the database, and this must work when the database is what failed.

    A database that cannot be reached is not a bug but an outage: pages get a static 503
    ("temporarily unavailable"), the API a 503 problem+json, both with Retry-After.
    """
    if isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS):
        return service_unavailable(request)
    return HttpResponse(loader.render_to_string("errors/500.html"), status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        from portal.api.problems import database_unavailable

        return database_unavailable(request)
    response = HttpResponse(loader.render_to_string("errors/503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")
