"""Enqueueing a task so that it exists exactly when the data it works on does."""

from django.conf import settings
from django.db import transaction
from django.tasks import Task

# Backends that store tasks as rows of the application's database: the task row commits or
# rolls back with the caller's transaction.
_IN_DATABASE = frozenset({"django_tasks_db.DatabaseBackend"})


def enqueue_with_data(task: Task, *args, **kwargs) -> None:
    """Enqueue `task` as part of the current transaction.

    With the database backend that is a plain enqueue (the row is in the transaction). Any
    other backend (a Redis queue) is outside the database, so the task is sent once the
    transaction commits, and never when it rolls back: a worker must not look for rows that
    are not committed yet, or that never will be. Sending can still fail after the commit
    (the queue unreachable); the periodic sweeps pick up whatever that leaves behind.
    """
    if settings.TASKS[task.backend]["BACKEND"] in _IN_DATABASE:
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=True)
