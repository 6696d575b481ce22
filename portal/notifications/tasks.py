"""Background tasks of the notification outbox. Tasks take ids and are idempotent.

They run on the "mail" queue, which `run_worker` serves in a thread of its own: a mail
server that hangs slows mail, never SLA escalation or the other periodic jobs.
"""

from django.tasks import task

from portal.notifications import delivery


@task(queue_name="mail")
def deliver_emails(delivery_ids: list[str]) -> dict[str, int]:
    """Send the messages one event produced. One bad recipient never stops the others:
    each row succeeds, waits for a retry, or fails on its own."""
    counts: dict[str, int] = {}
    for delivery_id in delivery_ids:
        status = delivery.deliver(delivery_id)
        counts[status] = counts.get(status, 0) + 1
    return counts


@task(queue_name="mail")
def sweep_email_outbox() -> dict[str, int]:
    """Retries that have come due, rows whose task was lost, rows a dead worker left."""
    return delivery.sweep()
