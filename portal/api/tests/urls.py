"""The project's routes with the API's in front: lets these tests run whether or not the
project urlconf includes the API yet (the settings fixture points ROOT_URLCONF here)."""

from django.urls import include, path

from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("portal.api.urls")),
    path("", include("portal.api.settings_urls")),
    *project_urlpatterns,
]
