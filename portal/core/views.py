"""Health check and error pages."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.attachments.health import check_storage
from portal.core import health

security_log = logging.getLogger("portal.security")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, 503 when it does not; the details say what is wrong.

    The worker and attachment storage are reported but never turn this into a 503: pages
    still work without them, so a load balancer must not take the server out.
    """
    checks = {"database": health.check_database()}
    if checks["database"][0]:
        checks["worker"] = health.check_worker()
        checks["storage"] = check_storage()
    healthy = all(ok for ok, _ in checks.values())
    body = {"status": "ok" if healthy else "down"}
    body.update({name: detail for name, (_, detail) in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


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


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")
