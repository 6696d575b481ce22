"""Pending notices delivered now, as the worker does within seconds of an event's commit."""

from portal.notifications import notice_services
from portal.notifications.models import PendingNotice


def deliver_pending() -> int:
    """Expand every pending notice into its in-app notifications and outbox rows (what
    the worker's notice pump does): for tests that read what an event told
    people right after the service call. Returns how many were delivered."""
    ids = list(PendingNotice.objects.order_by("pk").values_list("pk", flat=True))
    return notice_services.notices_expand(ids)["expanded"]
