from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhooks: ticket events signed and delivered to other systems by the worker."""

    name = "portal.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        # Tickets tells; it never imports us (the app sits above tickets in the layers).
        from portal.tickets.signals import sla_crossed, ticket_changed
        from portal.webhooks import alerts, events, services  # noqa: F401  (alerts registers its kind)
        from portal.webhooks.models import Webhook

        ticket_changed.connect(events.on_ticket_changed, dispatch_uid="webhooks-ticket-changed")
        sla_crossed.connect(events.on_sla_crossed, dispatch_uid="webhooks-sla-crossed")
        # The active hooks are cached for every ticket change (services.hooks_for).
        post_save.connect(services.hooks_changed, sender=Webhook, dispatch_uid="webhooks-cache")
        post_delete.connect(services.hooks_changed, sender=Webhook, dispatch_uid="webhooks-cache-d")
