"""/api/v1/… (included by the project urlconf under `api/v1/`).

Every route is wrapped once here: the API authenticates by token or session itself, so
the site's LoginRequiredMiddleware must not redirect it to the login page, and the few
answers ninja or Django produce outside our handlers (405, 404 for an unknown path) are
turned into problem+json like the rest.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from portal.api.api import api
from portal.api.problems import is_problem, problem


def _as_api_view(view):
    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return problem(request, 404, "Nothing was found at this address.")
        if response.status_code == 405 and not is_problem(response):
            allowed = response.get("Allow", "")
            answer = problem(request, 405, f"This address accepts {allowed or 'other methods'}.")
            answer["Allow"] = allowed
            return answer
        return response

    wrapper.csrf_exempt = True  # the API checks CSRF itself, for session callers only
    return wrapper


def _wrapped(patterns):
    for pattern in patterns:
        pattern.callback = _as_api_view(pattern.callback)
    return patterns


@csrf_exempt
@login_not_required
def _unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem(request, 404, "There is no API endpoint at this address.")


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("", include((_wrapped(_patterns), _app_name), namespace=_namespace)),
    re_path(r"^(?P<rest>.*)$", _unknown),
]
