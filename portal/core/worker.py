"""What keeps the task worker alive and its tasks honest when the database goes away.

django-tasks-db's polling loop lets an `OperationalError` escape: a database restart used to
end every worker, leave the task it was running marked RUNNING for ever, and stop mail and
every periodic job until someone restarted the process. Here:

- `ResilientWorker` catches database errors around the loop, closes the broken connection,
  waits (backing off to `WORKER_DB_RETRY_MAX_SECONDS`) and carries on: it never exits
  because of the database;
- a task interrupted that way (its result could not be written, or it failed because the
  connection died) is put back in the queue; tasks are idempotent, so running one again is
  safe. After `WORKER_TASK_MAX_ATTEMPTS` claims it is marked failed instead, so a task that
  kills its worker cannot loop for ever;
- `reap_abandoned_tasks` does the same for tasks left RUNNING by a worker process that
  died (killed, out of memory, host lost): their worker has no fresh heartbeat.
"""

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from portal.core.models import WorkerHeartbeat
from portal.lib.db import DATABASE_ERRORS, close_connection

log = logging.getLogger("portal.tasks")

# How django-tasks-db records a task that raised one of them (`set_failed`).
_ERROR_PATHS = {"django.db.utils.OperationalError", "django.db.utils.InterfaceError"}
_ABANDONED_PATH = "portal.core.worker.WorkerLost"

READY, RUNNING, FAILED = "READY", "RUNNING", "FAILED"


def stale_after() -> dt.timedelta:
    """A worker that has not written a heartbeat for three intervals is taken for dead."""
    return dt.timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)


class Backoff:
    """0.5 s, 1 s, 2 s … up to WORKER_DB_RETRY_MAX_SECONDS; starts over after a quiet minute."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.last_failure = 0.0

    def next_delay(self) -> float:
        now = time.monotonic()
        if now - self.last_failure > 60:
            self.delay = 0.0
        self.last_failure = now
        self.delay = min(max(self.delay * 2, 0.5), settings.WORKER_DB_RETRY_MAX_SECONDS)
        return self.delay


def requeue_or_fail(task: DBTaskResult, *, reason: str, status: str = RUNNING) -> str | None:
    """Put a task left RUNNING back in the queue (or fail it after too many claims).

    Conditional on the row still having `status` from the same start: if anyone settled or
    re-claimed it meanwhile, nothing changes. Returns the new status, or None.
    """
    now = timezone.now()
    rows = DBTaskResult.objects.filter(pk=task.pk, status=status, started_at=task.started_at)
    if len(task.worker_ids) >= settings.WORKER_TASK_MAX_ATTEMPTS:
        changed = rows.update(
            status=FAILED,
            finished_at=now,
            exception_class_path=_ABANDONED_PATH,
            traceback=f"Given up after {len(task.worker_ids)} attempts: {reason}",
        )
        status = FAILED
    else:
        changed = rows.update(status=READY, run_after=now)
        status = READY
    if changed:
        log.warning(
            "task %s", "failed" if status == FAILED else "requeued",
            extra={"task_id": str(task.pk), "task": task.task_path, "reason": reason},
        )  # fmt: skip
        return status
    return None


def reap_abandoned_tasks(*, now: dt.datetime | None = None) -> list[str]:
    """Requeue tasks RUNNING under a worker with no fresh heartbeat; returns their ids."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True)
    )
    reaped = []
    for task in DBTaskResult.objects.filter(status=RUNNING, started_at__lt=cutoff).only(
        "pk", "task_path", "started_at", "worker_ids"
    ):
        owner = task.worker_ids[-1] if task.worker_ids else None
        if owner in alive:
            continue
        if requeue_or_fail(task, reason=f"worker {owner} stopped sending heartbeats"):
            reaped.append(str(task.pk))
    # Heartbeats of processes long gone only clutter the table.
    WorkerHeartbeat.objects.filter(last_seen__lt=now - dt.timedelta(days=1)).delete()
    return reaped


class ResilientWorker(Worker):
    """django-tasks-db's worker loop, restarted after database errors instead of exiting."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.wakeup = threading.Event()  # set on shutdown to cut a backoff wait short
        # A task the database took away mid-run, and the status its row was left in.
        self.interrupted: tuple[DBTaskResult, str] | None = None

    def run(self) -> None:
        backoff = Backoff()
        while self.running:
            try:
                self._settle_interrupted()
                super().run()
                return  # stopped, or --batch / --max-tasks reached
            except Exception as exc:  # whatever happens, the worker carries on
                delay = backoff.next_delay()
                log.warning(
                    "%s; worker retrying in %.1f s",
                    "database unavailable" if isinstance(exc, DATABASE_ERRORS) else "worker error",
                    delay,
                    extra={"worker_id": self.worker_id, "error": repr(exc)},
                    exc_info=not isinstance(exc, DATABASE_ERRORS),
                )
                close_connection()
                self.startup_delay = False
                self.wakeup.wait(delay)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except DATABASE_ERRORS:
            # The task's result could not be written: the row still says RUNNING.
            self.interrupted = (db_task_result, RUNNING)
            raise
        if db_task_result.status == FAILED and db_task_result.exception_class_path in _ERROR_PATHS:
            # It failed because the connection died under it, not because of its input.
            self.interrupted = (db_task_result, FAILED)
            self._settle_interrupted()

    def _settle_interrupted(self) -> None:
        if self.interrupted is None:
            return
        task, status = self.interrupted
        requeue_or_fail(task, status=status, reason="the database connection was lost")
        self.interrupted = None  # only once the database took the change

    def stop(self) -> None:
        """Finish the current task, then leave the loop (and cut a backoff wait short)."""
        self.running = False
        self.wakeup.set()
