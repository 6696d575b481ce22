from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from portal.core import views as core_views


@login_not_required
def _admin_login(request):
    """Django admin signs in through the portal's login page (with its lockout rules).

    A signed-in user who is not an admin would otherwise bounce between the two forever.
    """
    if request.user.is_authenticated:
        raise PermissionDenied("The admin site is for admins only.")
    return redirect_to_login(request.GET.get("next") or "/admin/")


@login_not_required
def _favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the API docs, files):
    send them to the portal's icon instead of logging a 404 each time."""
    return RedirectView.as_view(url=static("img/favicon.svg"))(request)


urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("healthz/ready", core_views.healthz_ready, name="healthz-ready"),
    path("healthz/live", core_views.healthz_live, name="healthz-live"),
    path("favicon.ico", _favicon),
    # The seed's name for the master-data screens (its other routes are the same here).
    path("master-data", RedirectView.as_view(pattern_name="masters", permanent=True)),
    path("master-data/", RedirectView.as_view(pattern_name="masters", permanent=True)),
    path("", include("portal.accounts.urls")),
    path("", include("portal.catalog.urls")),
    path("", include("portal.tickets.urls")),
    path("", include("portal.replies.urls")),
    path("", include("portal.csat.urls")),
    path("", include("portal.links.urls")),
    path("", include("portal.approvals.urls")),
    path("", include("portal.notifications.urls")),
    path("", include("portal.sla.urls")),
    path("", include("portal.analytics.urls")),
    path("", include("portal.kb.urls")),
    path("", include("portal.webhooks.urls")),
    path("", include("portal.retention.urls")),
    path("", include("portal.mailin.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("", include("portal.api.settings_urls")),
    path("admin/login/", _admin_login),
    path("admin/", admin.site.urls),
]

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"
