"""Background tasks of the notification outbox. Tasks take ids and are idempotent.

They run on the "mail" queue, which `run_worker` serves in a thread of its own: a mail
server that hangs slows mail, never SLA escalation or the other periodic jobs.
"""

from django.tasks import task
from django.utils import timezone

from portal.notifications import delivery, notice_services


@task(queue_name="mail")
def deliver_emails(delivery_ids: list[str]) -> dict[str, int]:
    """Send the messages one event produced. One bad recipient never stops the others:
    each row succeeds, waits for a retry, or fails on its own. A failure of the server
    itself stops the batch: the rest stays queued for the sweep."""
    counts, _, _ = delivery.send_batch(delivery_ids, now=timezone.now())
    return counts


@task(queue_name="mail")
def sweep_email_outbox() -> dict[str, int]:
    """Retries that have come due, rows whose task was lost, rows a dead worker left."""
    return delivery.sweep()


# In-app notifications and outbox rows are written by the default queue, never behind a
# hanging mail server (the "mail" queue's thread).
@task
def expand_notices(notice_ids: list[int]) -> dict[str, int]:
    """Deliver the given pending notices (`notice_services.notices_expand`). Events no
    longer queue it (the worker's notice pump finds their notices); it stays for the tasks
    an earlier version queued, which still run after an upgrade. Idempotent: a notice
    already delivered is skipped."""
    return notice_services.notices_expand(notice_ids)


@task
def sweep_pending_notices() -> dict[str, int]:
    """Notices the pumps have missed for more than ten seconds (every worker's pump
    stopped, say), and failed ones due again (PERIODIC_TASKS: every 30 seconds); not those
    kept as failed, which wait for an admin."""
    return notice_services.notices_sweep()
