from django.urls import path

from portal.accounts import passkey_views, two_factor_views, views
from portal.accounts.scim import views as scim_views
from portal.accounts.sso import views as sso_views

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    # Company sign-in (mozilla-django-oidc's names, which its middleware looks up).
    path("oidc/authenticate/", sso_views.SsoStartView.as_view(), name="oidc_authentication_init"),
    path(
        "oidc/callback/", sso_views.SsoCallbackView.as_view(), name="oidc_authentication_callback"
    ),
    path(
        "oidc/backchannel-logout/",
        sso_views.backchannel_logout_view,
        name="oidc-backchannel-logout",
    ),
    path("scim/v2/Users", scim_views.users_view, name="scim-users"),
    path("scim/v2/Users/<int:user_id>", scim_views.user_view, name="scim-user"),
    path(
        "scim/v2/ServiceProviderConfig",
        scim_views.service_provider_config_view,
        name="scim-service-provider-config",
    ),
    path("password-reset", views.password_reset_request_view, name="password-reset"),
    path(
        "password-reset/<str:uidb64>/set-password",
        views.password_reset_set_view,
        name="password-reset-set",
    ),
    path(
        "password-reset/<str:uidb64>/<str:token>",
        views.password_reset_confirm_view,
        name="password-reset-confirm",
    ),
    path("settings", views.settings_view, name="settings"),
    path("login/two-factor", two_factor_views.code_view, name="two-factor-code"),
    path("login/two-factor/setup", two_factor_views.setup_view, name="two-factor-setup"),
    path("settings/two-factor", two_factor_views.settings_view, name="two-factor-settings"),
    path(
        "settings/two-factor/recovery-codes",
        two_factor_views.recovery_codes_view,
        name="two-factor-recovery-codes",
    ),
    path("settings/two-factor/disable", two_factor_views.disable_view, name="two-factor-disable"),
    path("settings/two-factor/passkeys", passkey_views.passkeys_view, name="passkeys"),
    path(
        "settings/two-factor/passkeys/options",
        passkey_views.registration_options_view,
        name="passkey-registration-options",
    ),
    path(
        "settings/two-factor/passkeys/<int:device_id>/remove",
        passkey_views.remove_view,
        name="passkey-remove",
    ),
    path("login/two-factor/passkey", passkey_views.sign_in_view, name="passkey-sign-in"),
    path(
        "login/two-factor/passkey/options",
        passkey_views.sign_in_options_view,
        name="passkey-sign-in-options",
    ),
    path("settings/users", views.user_list, name="user-list"),
    path("settings/users/new", views.user_create, name="user-create"),
    path("settings/users/<int:user_id>", views.user_edit, name="user-edit"),
    path("settings/users/<int:user_id>/password", views.user_reset_password, name="user-password"),
    path(
        "settings/users/<int:user_id>/two-factor/reset",
        views.user_two_factor_reset,
        name="user-two-factor-reset",
    ),
]
