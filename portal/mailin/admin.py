"""Mailboxes are kept by admins in /admin; the message ledger is read-only there."""

from django import forms
from django.contrib import admin

from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.senders import parse_domains


class MailboxForm(forms.ModelForm):
    # Write-only secrets: what is stored is never sent back to the browser. Left blank on
    # an existing mailbox, a secret keeps the one it has.
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave blank to keep the current password. For Gmail: an app password.",
    )
    oauth_client_secret = forms.CharField(
        label="Client secret",
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Microsoft 365: the app registration's client secret. Leave blank to keep it.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "address", "transport", "host", "port", "security", "auth", "username",
            "password",
            "oauth_tenant", "oauth_client_id", "oauth_client_secret", "oauth_authority",
            "folder", "processed_folder", "target", "group", "category", "subcategory",
            "unknown_senders", "allowed_domains", "is_active",
        ]  # fmt: skip

    def _kept(self, name: str) -> str:
        typed = self.cleaned_data.get(name, "")
        if not typed and self.instance.pk:
            return getattr(self.instance, name)
        return typed

    def clean_password(self) -> str:
        return self._kept("password")

    def clean_oauth_client_secret(self) -> str:
        return self._kept("oauth_client_secret")

    def clean_allowed_domains(self) -> str:
        return ", ".join(parse_domains(self.cleaned_data.get("allowed_domains", "")))

    def clean(self):
        data = super().clean() or {}
        self._clean_target(data)
        # A webhook mailbox's provider posts the mail: no IMAP sign-in to check.
        if data.get("transport") != Mailbox.Transport.WEBHOOK:
            self._clean_imap(data)
        if data.get("unknown_senders") == Mailbox.UnknownSenders.CREATE and not data.get(
            "allowed_domains"
        ):
            self.add_error("allowed_domains", "Name the domains whose senders get an account.")
        return data

    def _clean_imap(self, data: dict) -> None:
        for name in ("host", "username"):
            if not data.get(name):
                self.add_error(name, "A mailbox read over IMAP needs this.")
        if data.get("auth") == Mailbox.Auth.M365:
            for name in ("oauth_client_id", "oauth_client_secret"):
                if not data.get(name):
                    self.add_error(name, "Microsoft 365 mailboxes need this.")
            if not data.get("oauth_tenant") and not data.get("oauth_authority"):
                self.add_error("oauth_tenant", "Microsoft 365 mailboxes need the tenant.")
        elif not data.get("password"):
            self.add_error("password", "A mailbox signing in with a password needs it.")

    def _clean_target(self, data: dict) -> None:
        """Exactly one target: a whole classification, or the triage queue and nothing else."""
        group, category, sub = data.get("group"), data.get("category"), data.get("subcategory")
        if data.get("target") == Mailbox.Target.TRIAGE:
            for name in ("group", "category", "subcategory"):
                if data.get(name):
                    self.add_error(
                        name, "A triage mailbox has no classification: leave this empty."
                    )
            return
        if group is None:
            self.add_error("group", "Choose the group new mail is classified under.")
        if category is None:
            self.add_error("category", "Choose the category new mail is classified under.")
        elif group is not None and category.group_id != group.pk:
            self.add_error("category", f"{category.name} does not belong to {group.name}.")
        if sub is not None and category is not None and sub.category_id != category.pk:
            self.add_error("subcategory", f"{sub.name} does not belong to {category.name}.")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    # The health of each mailbox at a glance: when it last worked, and how it fails now.
    list_display = [
        "name", "address", "transport", "host", "target", "is_active", "last_success_at",
        "failures_in_a_row", "last_error_at", "last_error",
    ]  # fmt: skip
    readonly_fields = [
        "from_env", "uidvalidity", "last_uid", "token_expires_at", "last_polled_at",
        "last_success_at", "last_error", "last_error_at", "failures_in_a_row",
    ]  # fmt: skip


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = [
        "received_at", "mailbox", "sender", "subject", "outcome", "ticket", "decided_by",
    ]  # fmt: skip
    list_filter = ["outcome", "mailbox"]
    search_fields = ["sender", "subject", "message_id"]
    list_select_related = ["mailbox", "ticket", "decided_by"]
    raw_id_fields = ["ticket", "comment", "decided_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
