from django.apps import AppConfig


class SlaConfig(AppConfig):
    """Business calendars, SLA policies and business-time arithmetic (knows nothing of tickets)."""

    name = "portal.sla"
    label = "sla"

    def ready(self) -> None:
        from portal.sla import invalidation

        invalidation.connect()
