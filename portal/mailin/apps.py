from django.apps import AppConfig


class MailinConfig(AppConfig):
    """Email in: support mailboxes polled over IMAP; mail becomes tickets and comments."""

    name = "portal.mailin"
    label = "mailin"
    verbose_name = "Email in"

    def ready(self) -> None:
        from portal.mailin import answers  # noqa: F401  (registers the email-in notification kinds)
