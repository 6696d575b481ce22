"""The worker's console: each task logged once, housekeeping quietly."""

import io
import logging

import pytest
from django.tasks import task
from django.utils.log import configure_logging
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(settings):
    """The project's logging as `make run` sets it up (DEBUG on, Django's defaults first,
    then LOGGING), every console handler writing into one buffer; restored after."""
    settings.DEBUG = True
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    logging.getLogger("django.tasks").setLevel(logging.INFO)  # as `run_worker` sets it
    buffer = io.StringIO()
    for logger in [logging.getLogger(), *logging.root.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(buffer)
    yield buffer
    settings.DEBUG = False
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@task
def housekeeping(fail: bool = False) -> None:
    if fail:
        raise RuntimeError("disk full")


@task
def errand() -> str:
    return "done"


def _run(task, *args):
    """Enqueue and run the task as the worker does (started and finished signals)."""
    result = task.enqueue(*args)
    row = DBTaskResult.objects.get(id=result.id)
    row.claim("test-worker")
    Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
           startup_delay=False, max_tasks=None, worker_id="test-worker",
           excluded_queue_names=[]).run_task(row)  # fmt: skip
    return result


def test_a_task_is_logged_once_with_its_outcome(console):
    result = _run(errand)

    err = console.getvalue()
    lines = [line for line in err.splitlines() if result.id in line]
    assert len(lines) == 1
    assert "INFO django.tasks" in lines[0] and "state=SUCCESSFUL" in lines[0]


def test_periodic_housekeeping_is_quiet_unless_it_fails(console, settings):
    settings.PERIODIC_TASKS = {housekeeping.module_path: 30}

    quiet = _run(housekeeping)
    failed = _run(housekeeping, True)

    err = console.getvalue()
    assert quiet.id not in err
    lines = [line for line in err.splitlines() if failed.id in line]
    assert len(lines) == 1 and "ERROR django.tasks" in lines[0]
