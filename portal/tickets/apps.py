from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Tickets, comments and history; services (writes), selectors (reads), access rules."""

    name = "portal.tickets"
    label = "tickets"

    def ready(self) -> None:
        from portal.tickets import notify  # noqa: F401  (registers the ticket notification kinds)
