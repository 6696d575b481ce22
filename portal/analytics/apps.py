from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The dashboard, the analytics page and privacy-respecting page-view counts."""

    name = "portal.analytics"
    label = "analytics"

    def ready(self) -> None:
        # The rollup follows every ticket change (tickets tells; it never imports us).
        from portal.analytics import rollup
        from portal.tickets.signals import ticket_changed

        ticket_changed.connect(rollup.on_ticket_changed, dispatch_uid="analytics-rollup")
