"""The task worker: django-tasks-db's `db_worker`, made to survive the database, with one
thread per queue, a heartbeat for /healthz and the scheduler of PERIODIC_TASKS, and the
notice pump that delivers events' notifications.

`make run` and production start this instead of `db_worker`; every option of `db_worker`
is accepted. Without `--queue-name`, each queue of TASKS["default"]["QUEUES"] gets its own
thread, so a mail server that hangs (the "mail" queue) never holds back SLA escalation or
the sweeps (the "default" queue). The heartbeat runs in a thread of its own too; every
thread has its own database connection. Nothing the database does makes this exit: see
portal/core/worker.py.
"""

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from portal.core.models import WorkerHeartbeat
from portal.core.periodic import enqueue_due_tasks
from portal.core.worker import Backoff, ResilientWorker, reap_abandoned_tasks, stale_after
from portal.lib.db import close_connection
from portal.mailin.watcher import MailboxWatchers
from portal.notifications.notice_services import notices_pump

logger = logging.getLogger("portal.tasks")


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"last_seen": timezone.now()}
    )


class Heartbeat(threading.Thread):
    """Says the process is alive, enqueues periodic tasks, and reaps tasks of dead workers."""

    def __init__(self, worker_id: str):
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()
        # Since when this thread has reached the database without a break. Reaping waits
        # until that is longer than the stale window: right after an outage every worker's
        # heartbeat is old, and the others need one interval to show they are alive.
        self.connected_since: float | None = None

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                beat(self.worker_id)
                if self.connected_since is None:
                    self.connected_since = time.monotonic()
                enqueue_due_tasks()
                if time.monotonic() - self.connected_since > stale_after().total_seconds():
                    reap_abandoned_tasks()
            except Exception as exc:  # a database blip must not kill the heartbeat thread
                logger.warning("heartbeat failed; retrying", extra={"error": repr(exc)})
                self.connected_since = None
                close_connection()
            self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connection.close()


class NoticePump(threading.Thread):
    """Delivers the notifications events commit (`notice_services.notices_pump`): looks
    every NOTICE_POLL_MS, and again at once while it delivers some. Events queue no task for
    it. Like the heartbeat it outlives the database: an error is logged, the connection
    closed, and the next look waits 0.5 s, 1 s … up to WORKER_DB_RETRY_MAX_SECONDS."""

    def __init__(self) -> None:
        super().__init__(name="notice-pump", daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        backoff, tidy_at = Backoff(), 0.0
        while not self.stopped.is_set():
            try:
                if time.monotonic() >= tidy_at:  # not every look: DB_CONN_MAX_AGE may be 0
                    close_old_connections()
                    tidy_at = time.monotonic() + 60
                delivered = notices_pump()["expanded"]
                wait = 0.0 if delivered else settings.NOTICE_POLL_MS / 1000
            except Exception as exc:  # a database blip must not end the pump
                logger.warning("notice pump failed; retrying", extra={"error": repr(exc)})
                with contextlib.suppress(Exception):
                    close_connection()
                wait, tidy_at = backoff.next_delay(), 0.0
            self.stopped.wait(wait)
        connection.close()


def start_mailbox_watchers(worker_id: str) -> MailboxWatchers | None:
    """IMAP IDLE on every active support mailbox (INBOUND_IDLE), in threads of their own;
    a lease on each mailbox keeps it to one worker process (portal/mailin/watcher.py)."""
    if not settings.INBOUND_IDLE:
        return None
    watchers = MailboxWatchers(worker_id)
    watchers.start()
    return watchers


class Command(DbWorkerCommand):
    help = "Run the background task worker (db_worker) and report a heartbeat for /healthz."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        if settings.TASKS_BACKEND == "redis":
            # db_worker checks the name against database backends; Redis has its own loop.
            for action in parser._actions:
                if action.dest == "backend_name":
                    action.type = str
        # None means: one thread per configured queue; and the worker id of the heartbeat.
        parser.set_defaults(queue_name=None, worker_id=None)

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options):
        self.configure_logging(verbosity)
        worker_id = options.pop("worker_id") or f"{socket.gethostname()}:{os.getpid()}"[:64]
        groups = [queue_name] if queue_name else settings.TASKS["default"]["QUEUES"]
        if settings.TASKS_BACKEND == "redis":
            self.run_redis_workers(worker_id, groups, interval=options["interval"])
            return
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in groups:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        self.stopping = False
        self.workers = [
            ResilientWorker(
                queue_names=group.split(","),
                interval=options["interval"],
                batch=batch,
                backend_name=options["backend_name"],
                startup_delay=options["startup_delay"],
                max_tasks=options["max_tasks"],
                worker_id=worker_id,
                excluded_queue_names=excluded,
            )
            for group in groups
        ]
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                self.configure_signals()  # only the child runs workers
            run_with_reloader(self.run_workers, worker_id)
        else:
            self.configure_signals()
            self.run_workers(worker_id)

    def run_workers(self, worker_id: str) -> None:
        heartbeat, pump = Heartbeat(worker_id), NoticePump()
        heartbeat.start()
        pump.start()
        watchers = start_mailbox_watchers(worker_id)
        threads = [
            threading.Thread(
                target=self._run, args=(worker,), name=f"worker-{','.join(worker.queue_names)}"
            )
            for worker in self.workers
        ]
        # Before the threads say "Starting worker" each: `bin/run-dev` counts them against
        # this number to print its banner once every queue has started.
        logger.info(
            "Task worker %s: %d queue thread(s): %s",
            worker_id,
            len(self.workers),
            "; ".join(",".join(worker.queue_names) for worker in self.workers),
        )
        for thread in threads:
            thread.daemon = True  # a second Ctrl-C must be able to end the process
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(0.5)
        finally:
            heartbeat.stopped.set()
            pump.stopped.set()
            if watchers is not None:
                watchers.stopped.set()

    def run_redis_workers(self, worker_id: str, queues, *, interval: float) -> None:
        """TASKS_BACKEND=redis: django-tasks-redis's worker loop, one thread per queue, with
        the same heartbeat and periodic scheduler (both in the database, which stays the
        one place that decides "once": a periodic run is claimed there before it is sent).

        A task a worker took and never acknowledged (the process died) is handed to another
        worker after TASKS_REDIS_CLAIM_SECONDS; tasks are idempotent, so that is safe.
        """
        from django.tasks import task_backends
        from django_tasks_redis.management.commands.run_redis_tasks import (
            Command as RedisWorkerCommand,
        )
        from django_tasks_redis.shutdown import GracefulShutdown

        backend: Any = task_backends["default"]  # a RedisTaskBackend (broker, block_timeout)
        heartbeat, pump = Heartbeat(worker_id), NoticePump()
        heartbeat.start()
        pump.start()
        watchers = start_mailbox_watchers(worker_id)
        shutdown = GracefulShutdown(timeout=0, log_signals=False)
        loops = []
        for queue in queues:
            loop = RedisWorkerCommand(stdout=self.stdout._out, stderr=self.stderr._out)
            loop.tasks_failed = 0
            consumer = f"{worker_id}:{queue}"
            kwargs = dict(
                shutdown=shutdown, backend=backend, broker=backend.broker, queue_name=queue,
                worker_id=consumer, continuous=True, interval=interval,
                wait_seconds=(backend.block_timeout or 0) / 1000, max_tasks=0,
                claim_interval=60.0,
            )  # fmt: skip
            loops.append(threading.Thread(target=self._run_redis, args=(loop, kwargs), daemon=True))
        logger.info(
            "Task worker %s (Redis): %d queue thread(s): %s",
            worker_id,
            len(loops),
            "; ".join(queues),
        )
        with shutdown:
            for thread in loops:
                thread.start()
            try:
                while any(thread.is_alive() for thread in loops):
                    for thread in loops:
                        thread.join(0.5)
            finally:
                heartbeat.stopped.set()
                pump.stopped.set()
                if watchers is not None:
                    watchers.stopped.set()
                backend.broker.close()

    @staticmethod
    def _run_redis(loop, kwargs: dict) -> None:
        try:
            loop._process_tasks(**kwargs)
        finally:
            loop._remove_consumer(kwargs["broker"], kwargs["worker_id"])
            connection.close()

    @staticmethod
    def _run(worker: ResilientWorker) -> None:
        try:
            worker.run()
        finally:
            connection.close()

    def configure_signals(self) -> None:
        for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.shutdown)

    def shutdown(self, signum, frame) -> None:
        if self.stopping:
            logger.warning("Received %s again: stopping now", signal.strsignal(signum))
            sys.exit(1)
        logger.warning(
            "Received %s: finishing the running tasks (again to stop at once)",
            signal.strsignal(signum),
        )
        self.stopping = True
        for worker in self.workers:
            worker.stop()
