"""Health checks reported by /healthz. Each returns (healthy, detail)."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down" to a load balancer
        return False, {"status": "down", "error": exc.__class__.__name__}
    return True, {"status": "ok", "vendor": connection.vendor}


def check_worker() -> tuple[bool, dict]:
    """The worker is up if one wrote a heartbeat within three heartbeat intervals.

    A stopped worker does not make the portal unhealthy for a load balancer (pages still
    work, mail waits in the outbox), so this never turns /healthz into a 503 on its own.
    """
    from portal.core.models import WorkerHeartbeat

    stale_after = dt.timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)
    try:
        latest = (
            WorkerHeartbeat.objects.order_by("-last_seen")
            .values_list("last_seen", flat=True)
            .first()
        )
    except Exception:
        return True, {"status": "unknown"}
    if latest is None:
        return True, {"status": "never seen"}
    age = timezone.now() - latest
    status = "ok" if age <= stale_after else "stale"
    return True, {"status": status, "last_seen_seconds_ago": int(age.total_seconds())}
