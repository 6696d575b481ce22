"""The token pages under /settings/tokens (included by the project urlconf at the root)."""

from django.urls import path

from portal.api import views

urlpatterns = [
    path("settings/tokens", views.token_list, name="api-tokens"),
    path("settings/tokens/<int:token_id>/revoke", views.token_revoke, name="api-token-revoke"),
]
