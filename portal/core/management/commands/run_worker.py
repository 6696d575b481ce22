"""The task worker: django-tasks-db's `db_worker` plus a heartbeat for /healthz and the
scheduler of PERIODIC_TASKS.

`make run` and production start this instead of `db_worker`; every option of
`db_worker` is accepted. The heartbeat runs in a thread with its own database connection.
"""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from portal.core.models import WorkerHeartbeat
from portal.core.periodic import enqueue_due_tasks

logger = logging.getLogger("portal.tasks")


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"last_seen": timezone.now()}
    )


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str):
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                beat(self.worker_id)
                enqueue_due_tasks()
            except Exception:  # a database blip must not kill the heartbeat thread
                logger.exception("heartbeat failed; retrying")
                connection.close()
            self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connection.close()


class Command(DbWorkerCommand):
    help = "Run the background task worker (db_worker) and report a heartbeat for /healthz."

    def handle(self, *args, **options):
        worker_id = f"{socket.gethostname()}:{os.getpid()}"[:64]
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stopped.set()
