from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from portal.accounts import services
from portal.accounts.models import SsoIdentity, SsoRoleMapping, User


class PasswordChangeThroughService(AdminPasswordChangeForm):
    """Django admin's "change password" form, saved through `user_set_password` so that,
    as everywhere else, the user's sessions end and their API tokens are revoked.
    (Who did it is in the admin's own change log.)"""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        services.user_set_password(user=self.user, password=password, actor=None)
        return self.user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordChangeThroughService
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["manager"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "manager"]}),
        (
            "Access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Company accounts bound to portal users. Read-only: bound by sign-in, never by hand;
    deleting one unbinds it (the next company sign-in binds by verified email again)."""

    list_display = [
        "user",
        "issuer",
        "subject",
        "email_at_link",
        "admin_granted",
        "last_sign_in_at",
    ]
    search_fields = ["user__email", "subject", "email_at_link"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "issuer",
        "subject",
        "email_at_link",
        "created_at",
        "last_sign_in_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SsoRoleMapping)
class SsoRoleMappingAdmin(admin.ModelAdmin):
    """Which provider groups or app roles make portal admins (applied at each company
    sign-in; see docs/sso.md)."""

    list_display = ["claim_value", "role", "created_at"]
    search_fields = ["claim_value"]
    fields = ["claim_value", "role"]
