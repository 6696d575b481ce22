"""Suppressed addresses in /admin: an admin removes one when the address works again."""

from django.contrib import admin

from portal.notifications.models import EmailSuppression


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "created_at"]
    search_fields = ["address"]
    readonly_fields = ["address", "reason", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
