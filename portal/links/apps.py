from django.apps import AppConfig


class LinksConfig(AppConfig):
    """Links between tickets: relates to, duplicate of, blocks."""

    name = "portal.links"
    label = "links"

    def ready(self) -> None:
        # Whether a ticket has links at all, asked in the ticket page's own read.
        from portal.links.models import TicketLink
        from portal.tickets import page_facts

        page_facts.register("links", page_facts.Fact(TicketLink, ("source", "target")))
