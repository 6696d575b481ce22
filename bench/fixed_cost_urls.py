"""The portal's URLs plus one signed-in page that does nothing of its own.

bench/profile_pages.py's "0 fixed cost" scenario requests it: what every signed-in page
pays before and around its own work (middleware, session and user, context processors,
templates/base.html with its navigation), with no view or content to blur it.
"""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

_EMPTY_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Empty{% endblock %}'
    "{% block content %}<h1>Empty</h1>{% endblock %}"
)


def empty_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_EMPTY_PAGE.render({}, request))


urlpatterns = [path("_bench/empty", empty_page, name="bench-empty"), *portal_urlpatterns]
