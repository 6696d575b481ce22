from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhooks: ticket events signed and delivered to other systems by the worker."""

    name = "portal.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # Tickets tells; it never imports us (the app sits above tickets in the layers).
        from portal.tickets.signals import sla_crossed, ticket_changed
        from portal.webhooks import alerts, events  # noqa: F401  (alerts registers its kind)

        ticket_changed.connect(events.on_ticket_changed, dispatch_uid="webhooks-ticket-changed")
        sla_crossed.connect(events.on_sla_crossed, dispatch_uid="webhooks-sla-crossed")
