"""The pending notices in `/healthz` (docs/operations.md): failing while any is kept as
failed, since the people it names were told nothing, not even in the portal, and the
admins' alert about it travels by the same road and may not arrive; and failing while a
notice never tried has waited longer than LATE_AFTER, which neither the pumps (within a
second) nor the sweep (within about 40 s) would let happen: nothing is delivering."""

import datetime as dt

from django.db.models import Count, Min, Q
from django.utils import timezone

from portal.notifications.models import PendingNotice

LATE_AFTER = dt.timedelta(minutes=2)


def check_notices() -> tuple[bool, dict]:
    """`pending`: notices waiting for the worker (normally for seconds), with the age of
    the oldest; `retrying`: those among them that failed and wait for another attempt;
    `failed`: those kept as failed, which fail the check until an admin retries or
    discards them (the email log); `late`: those never tried for more than LATE_AFTER,
    which fail it while the worker delivers nothing. One query."""
    now = timezone.now()
    figures = PendingNotice.objects.aggregate(
        pending=Count("pk", filter=Q(failed_at__isnull=True)),
        retrying=Count("pk", filter=Q(failed_at__isnull=True, attempts__gt=0)),
        failed=Count("pk", filter=Q(failed_at__isnull=False)),
        late=Count("pk", filter=Q(attempts=0, created_at__lt=now - LATE_AFTER)),
        oldest=Min("created_at", filter=Q(failed_at__isnull=True)),
    )
    oldest = figures.pop("oldest")
    figures["oldest_pending_seconds"] = max(int((now - oldest).total_seconds()), 0) if oldest else 0
    status = "failed" if figures["failed"] else "late" if figures["late"] else "ok"
    return status == "ok", {"status": status, **figures}
