"""Health checks behind /healthz, /healthz/ready and /healthz/live (docs/operations.md).

Each check returns (healthy, detail): `detail` is JSON with at least a "status". The
database is checked first; the others read it, so they only run when it answers.
A check of another app plugs in by adding its dotted path to DEPENDENT_CHECKS.
"""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.module_loading import import_string

# name in the report → check. Run in this order, after the database check.
DEPENDENT_CHECKS = {
    "worker": "portal.core.health.check_worker",
    "tasks": "portal.core.health.check_tasks",
    "storage": "portal.attachments.health.check_storage",
    "notices": "portal.notifications.health.check_notices",
}


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down" to a load balancer
        return False, {"status": "down", "error": exc.__class__.__name__}
    return True, {"status": "ok", "vendor": connection.vendor}


def full_report() -> tuple[bool, dict]:
    """Every check; healthy only if all are. The body names the failing checks."""
    checks = {"database": check_database()}
    if checks["database"][0]:
        for name, path in DEPENDENT_CHECKS.items():
            checks[name] = _run(import_string(path))
    failing = [name for name, (ok, _) in checks.items() if not ok]
    body: dict[str, object] = {"status": "failing" if failing else "ok", "failing": failing}
    body.update({name: detail for name, (_, detail) in checks.items()})
    return not failing, body


def _run(check) -> tuple[bool, dict]:
    try:
        return check()
    except Exception as exc:  # a broken check is a failing check, never a 500
        return False, {"status": "error", "error": exc.__class__.__name__}


def check_worker() -> tuple[bool, dict]:
    """Failing when no worker wrote a heartbeat within three intervals ("stale"), or a task
    has been running longer than WORKER_TASK_STUCK_SECONDS ("stuck": the heartbeat thread
    can be alive while the thread running tasks hangs).

    "never seen" (no worker has ever run against this database, e.g. a fresh install or a
    test run) is reported but not failing; once one has run, its absence is.
    """
    from django_tasks_db.models import DBTaskResult

    from portal.core.models import WorkerHeartbeat
    from portal.core.worker import stale_after

    now = timezone.now()
    latest = (
        WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    )
    if latest is None:
        return True, {"status": "never seen"}
    detail = {"last_seen_seconds_ago": _seconds(now - latest)}
    if now - latest > stale_after():
        return False, {"status": "stale", **detail}
    stuck_before = now - dt.timedelta(seconds=settings.WORKER_TASK_STUCK_SECONDS)
    stuck = DBTaskResult.objects.running().filter(started_at__lt=stuck_before)
    oldest = stuck.aggregate(started=Min("started_at"))["started"]
    if oldest is not None:
        return False, {
            "status": "stuck",
            "stuck_tasks": stuck.count(),
            "longest_running_seconds": _seconds(now - oldest),
            **detail,
        }
    return True, {"status": "ok", **detail}


def check_tasks() -> tuple[bool, dict]:
    """The backlog per queue: how many tasks are due and how long the oldest has waited.
    Failing when one has waited longer than WORKER_BACKLOG_MAX_SECONDS."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    if settings.TASKS_BACKEND == "redis":
        return _check_redis_tasks(now)
    due = DBTaskResult.objects.ready()
    queues: dict[str, dict] = {}
    # A task enqueued without a delay is due since it was enqueued; a delayed one since
    # its run_after.
    for rows, since in (
        (due.filter(run_after=get_date_max()), "enqueued_at"),
        (due.exclude(run_after=get_date_max()), "run_after"),
    ):
        for row in rows.values("queue_name").annotate(n=Count("pk"), oldest=Min(since)):
            queue = queues.setdefault(row["queue_name"], {"due": 0, "oldest_due_seconds": 0})
            queue["due"] += row["n"]
            queue["oldest_due_seconds"] = max(
                queue["oldest_due_seconds"], _seconds(now - row["oldest"])
            )
    for name in settings.TASKS["default"]["QUEUES"]:
        queues.setdefault(name, {"due": 0, "oldest_due_seconds": 0})
    oldest = max(queue["oldest_due_seconds"] for queue in queues.values())
    healthy = oldest <= settings.WORKER_BACKLOG_MAX_SECONDS
    return healthy, {"status": "ok" if healthy else "backlog", "queues": queues}


def _check_redis_tasks(now: dt.datetime) -> tuple[bool, dict]:
    """TASKS_BACKEND=redis: the same report from django-tasks-redis's status index (tasks
    waiting per queue and since when; a delayed task waits from its run_after)."""
    from django.tasks import task_backends

    backend = task_backends["default"]
    queues: dict[str, dict] = {}
    for name in settings.TASKS["default"]["QUEUES"]:
        stats = backend.get_queue_stats(name)  # type: ignore[attr-defined]
        since = stats["oldest_pending_waiting_since"]
        queues[name] = {
            "due": stats["pending_count"],
            "oldest_due_seconds": _seconds(now - since) if since else 0,
        }
    oldest = max(queue["oldest_due_seconds"] for queue in queues.values())
    healthy = oldest <= settings.WORKER_BACKLOG_MAX_SECONDS
    return healthy, {"status": "ok" if healthy else "backlog", "queues": queues}


def _seconds(delta: dt.timedelta) -> int:
    return max(int(delta.total_seconds()), 0)
