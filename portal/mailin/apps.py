from django.apps import AppConfig


class MailinConfig(AppConfig):
    """Email in: support mailboxes polled over IMAP; mail becomes tickets and comments."""

    name = "portal.mailin"
    label = "mailin"
    verbose_name = "Email in"

    def ready(self) -> None:
        from portal.mailin import answers  # noqa: F401  (registers the email-in notification kinds)
        from portal.mailin.models import InboundMessage
        from portal.tickets import page_facts

        # Whether a ticket has mail kept as received (what the page lists), asked in the
        # ticket page's own read.
        kept = page_facts.Fact(InboundMessage, ("ticket",), unless={"raw_key": ""})
        page_facts.register("mail", kept)
