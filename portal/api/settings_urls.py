"""The token pages under /settings/tokens (included by the project urlconf at the root)."""

from django.urls import path

from portal.api import views

urlpatterns = [
    path("settings/tokens", views.token_list, name="api-tokens"),
    path("settings/tokens/<int:token_id>/revoke", views.token_revoke, name="api-token-revoke"),
    path("settings/users/<int:user_id>/tokens", views.user_token_list, name="api-user-tokens"),
    path(
        "settings/users/<int:user_id>/tokens/revoke",
        views.user_token_revoke,
        name="api-user-tokens-revoke",
    ),
]
