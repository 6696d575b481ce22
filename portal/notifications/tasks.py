"""Background tasks of the notification outbox. Tasks take ids and are idempotent.

They run on the "mail" queue, which `run_worker` serves in a thread of its own: a mail
server that hangs slows mail, never SLA escalation or the other periodic jobs.
"""

from django.tasks import task
from django.utils import timezone

from portal.notifications import delivery


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
