"""Polling the support mailboxes, in the worker's "mailin" queue: a mail server that hangs
delays email in only, never outgoing mail or SLA escalation. Enqueued by PERIODIC_TASKS."""

import logging

from django.tasks import task
from django.utils import timezone

from portal.attachments.cleanup import delete_pending
from portal.attachments.storage import get_storage
from portal.mailin import poller, rawmail, services, watcher
from portal.mailin.models import Mailbox
from portal.tickets.errors import InvalidInput

log = logging.getLogger("portal.mailin")


@task(queue_name="mailin")
def poll_mailboxes() -> dict[str, int]:
    try:
        services.mailbox_sync_from_env()
    except InvalidInput as exc:
        log.error("INBOUND_IMAP settings refused", extra={"error": str(exc)})
    totals: dict[str, int] = {}
    now = timezone.now()
    # Webhook mailboxes are not read: their provider posts each message (webhook.py).
    for mailbox in Mailbox.objects.filter(is_active=True, transport=Mailbox.Transport.IMAP):
        if watcher.is_watched(mailbox, now):
            continue  # a worker holds it in IMAP IDLE and reads new mail as it comes
        result = poller.poll(mailbox)
        for outcome, count in result.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


@task()
def cleanup_pending_raw_mail() -> dict[str, int]:
    """Delete raw mail stored for a message whose row never committed (a crash between
    storing and writing), once older than the sweep age; from the pending-object ledger."""
    report = delete_pending(get_storage(), rawmail.PREFIX, known=rawmail.known_raw_keys)
    return {"examined": report.examined, "deleted": len(report.deleted)}
