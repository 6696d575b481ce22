from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Tickets, comments and history; services (writes), selectors (reads), access rules."""

    name = "portal.tickets"
    label = "tickets"
