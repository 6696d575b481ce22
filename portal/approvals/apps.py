from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """Approvals: a ticket whose classification needs a yes waits for its approvers."""

    name = "portal.approvals"
    label = "approvals"

    def ready(self) -> None:
        # A new ticket awaiting approval opens its first step; a cancelled one closes its
        # steps (tickets tells; it never imports us).
        from portal.accounts.services import user_deactivated
        from portal.approvals import notify, receivers
        from portal.notifications.kinds import register_kind
        from portal.tickets.signals import ticket_changed

        for kind in notify.KINDS:
            register_kind(kind)
        ticket_changed.connect(receivers.on_ticket_changed, dispatch_uid="approvals-open")
        # A deactivated (or erased) approver's pending parts pass on (accounts tells).
        user_deactivated.connect(receivers.on_user_deactivated, dispatch_uid="approvals-hand-on")
