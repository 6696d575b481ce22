"""Background tasks of the webhook outbox. Tasks take ids and are idempotent.

They run on the "webhooks" queue, which `run_worker` serves in a thread of its own: a
receiver that hangs slows webhooks, never mail or the periodic jobs.
"""

from django.tasks import task
from django.utils import timezone

from portal.webhooks import delivery


@task(queue_name="webhooks")
def deliver_webhooks(delivery_ids: list[str]) -> dict[str, int]:
    """Send the deliveries one event produced (one per hook)."""
    return delivery.send_batch(delivery_ids, now=timezone.now())


@task(queue_name="webhooks")
def sweep_webhook_outbox() -> dict[str, int]:
    """Retries that have come due, rows whose task was lost, rows a dead worker left."""
    return delivery.sweep()
