"""Periodic work of the tickets app. Tasks take ids (or nothing) and are idempotent."""

from django.tasks import task

from portal.attachments.cleanup import CleanupReport, delete_orphans, delete_pending
from portal.attachments.storage import get_storage
from portal.tickets.attachment_keys import PREFIX, known_storage_keys


def _counts(report: CleanupReport) -> dict[str, int]:
    return {
        "examined": report.examined,
        "deleted": len(report.deleted),
        "failed": len(report.failed),
    }


@task()
def cleanup_orphan_attachments_task() -> dict[str, int]:
    """Delete the ticket files of uploads that never completed, once they are older than
    the sweep age (ATTACHMENT_ORPHAN_MINUTES): rows did not commit and the storage could
    not delete at that moment (see `store_then_commit`), or a worker was killed between
    storing and committing.

    Reads the ledger of pending objects (cheap: no listing of the bucket), so it runs
    every 5 minutes (PERIODIC_TASKS). Younger objects are kept: their rows may not be
    committed yet. A failed delete is counted and tried again on the next run.
    """
    return _counts(delete_pending(get_storage(), PREFIX, known=known_storage_keys))


@task()
def sweep_unrecorded_attachments_task() -> dict[str, int]:
    """The backstop: list every stored ticket file and delete those older than the sweep
    age that no Attachment row refers to, whatever left them (one LIST call per 1,000
    objects, so daily in PERIODIC_TASKS)."""
    return _counts(delete_orphans(get_storage(), PREFIX, known=known_storage_keys))


@task()
def escalate_sla() -> dict[str, int]:
    """Tell assignees about tickets at risk and leads + SPOCs about breaches, exactly once
    per ticket and target even when two workers run it at once (see sla_jobs). Run every
    minute (PERIODIC_TASKS)."""
    from portal.tickets import sla_jobs  # here, so the cleanup task's imports stay light

    return sla_jobs.escalate()


@task()
def recompute_sla() -> dict[str, int]:
    """Re-apply calendars and policies to open tickets after an admin changed them.

    Enqueued by the `sla_definitions_changed` receiver (tickets/apps.py), so the admin's
    request never waits for it. Idempotent: a second run changes nothing.
    """
    from portal.tickets import sla_jobs

    return {"changed": sla_jobs.recompute_open()}


@task()
def close_and_remind() -> dict[str, int]:
    """Close resolved tickets after AUTO_CLOSE_DAYS, remind requesters of tickets On hold
    after HOLD_REMINDER_DAYS and close those after HOLD_CLOSE_DAYS; each once per ticket
    even when two workers run it at once (see autoclose_services). PERIODIC_TASKS: 15 min."""
    from portal.tickets import autoclose_services

    return autoclose_services.close_and_remind()
