from django.apps import AppConfig


class CsatConfig(AppConfig):
    """Satisfaction ratings: the requester rates a resolution good or bad."""

    name = "portal.csat"
    label = "csat"

    def ready(self) -> None:
        # Asking for a rating follows every resolution (tickets tells; it never imports us).
        from portal.csat import notify, receivers
        from portal.csat.models import Rating
        from portal.notifications.kinds import register_kind
        from portal.tickets import page_facts
        from portal.tickets.signals import ticket_changed

        for kind in notify.KINDS:
            register_kind(kind)
        ticket_changed.connect(receivers.on_ticket_changed, dispatch_uid="csat-ask")
        # Whether a ticket has ratings at all, asked in the ticket page's own read.
        page_facts.register("ratings", page_facts.Fact(Rating, ("ticket",)))
