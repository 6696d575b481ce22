"""The pending notices in `/healthz` (docs/operations.md): failing while any is kept as
failed, since the people it names were told nothing, not even in the portal, and the
admins' alert about it travels by the same road and may not arrive."""

from django.db.models import Count, Min, Q
from django.utils import timezone

from portal.notifications.models import PendingNotice


def check_notices() -> tuple[bool, dict]:
    """`pending`: notices waiting for the worker (normally for seconds), with the age of
    the oldest; `retrying`: those among them that failed and wait for another attempt;
    `failed`: those kept as failed, which fail the check until an admin retries or
    discards them (the email log). One query."""
    now = timezone.now()
    figures = PendingNotice.objects.aggregate(
        pending=Count("pk", filter=Q(failed_at__isnull=True)),
        retrying=Count("pk", filter=Q(failed_at__isnull=True, attempts__gt=0)),
        failed=Count("pk", filter=Q(failed_at__isnull=False)),
        oldest=Min("created_at", filter=Q(failed_at__isnull=True)),
    )
    oldest = figures.pop("oldest")
    figures["oldest_pending_seconds"] = max(int((now - oldest).total_seconds()), 0) if oldest else 0
    healthy = figures["failed"] == 0
    return healthy, {"status": "ok" if healthy else "failed", **figures}
