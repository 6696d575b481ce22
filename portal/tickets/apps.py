from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Tickets, comments and history; services (writes), selectors (reads), access rules."""

    name = "portal.tickets"
    label = "tickets"

    def ready(self) -> None:
        from portal.sla.signals import sla_definitions_changed
        from portal.tickets import notify  # noqa: F401  (registers the ticket notification kinds)

        sla_definitions_changed.connect(_definitions_changed, dispatch_uid="tickets.recompute_sla")

        # Master data tells tickets when people who could act on open tickets go away;
        # catalog never imports tickets (docs/architecture.md).
        from portal.catalog import signals as catalog_signals
        from portal.tickets import rerouting

        catalog_signals.member_left.connect(rerouting.member_left, dispatch_uid="tickets.reroute")
        catalog_signals.spocs_removed.connect(
            rerouting.spocs_removed, dispatch_uid="tickets.reroute"
        )
        from portal.accounts.services import user_deactivated

        user_deactivated.connect(rerouting.user_deactivated, dispatch_uid="tickets.reroute")


def _definitions_changed(sender, *, calendar_ids, policy_ids, **kwargs) -> None:
    """A calendar or policy changed: recompute open tickets' targets in the background.

    All open tickets, not only those on the changed policy: a new or re-scoped policy can
    take over tickets that another policy (or none) covered until now.
    """
    from portal.lib.tasks import enqueue_with_data
    from portal.tickets.tasks import recompute_sla

    enqueue_with_data(recompute_sla)
