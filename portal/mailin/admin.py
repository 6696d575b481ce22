"""Mailboxes are kept by admins in /admin; the message ledger is read-only there."""

from django import forms
from django.contrib import admin

from portal.mailin.models import InboundMessage, Mailbox


class MailboxForm(forms.ModelForm):
    # Write-only: the stored password is never sent back to the browser. Left blank on an
    # existing mailbox, it keeps the one it has.
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave blank to keep the current password. For Gmail: an app password.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "address", "host", "port", "security", "username", "password", "folder",
            "processed_folder", "group", "category", "subcategory", "unknown_senders",
            "is_active",
        ]  # fmt: skip

    def clean_password(self) -> str:
        typed = self.cleaned_data.get("password", "")
        if not typed and self.instance.pk:
            return self.instance.password
        if not typed:
            raise forms.ValidationError("A new mailbox needs its password.")
        return typed


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    # The health of each mailbox at a glance: when it last worked, and how it fails now.
    list_display = [
        "name", "address", "host", "is_active", "last_success_at", "failures_in_a_row",
        "last_error_at", "last_error",
    ]  # fmt: skip
    readonly_fields = [
        "from_env", "uidvalidity", "last_uid", "last_polled_at", "last_success_at",
        "last_error", "last_error_at", "failures_in_a_row",
    ]  # fmt: skip


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "mailbox", "sender", "subject", "outcome", "ticket"]
    list_filter = ["outcome", "mailbox"]
    search_fields = ["sender", "subject", "message_id"]
    list_select_related = ["mailbox", "ticket"]
    raw_id_fields = ["ticket", "comment"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
