"""Polling the support mailboxes, in the worker's "mailin" queue: a mail server that hangs
delays email in only, never outgoing mail or SLA escalation. Enqueued by PERIODIC_TASKS."""

import logging

from django.tasks import task

from portal.mailin import poller, services
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
    for mailbox in Mailbox.objects.filter(is_active=True):
        result = poller.poll(mailbox)
        for outcome, count in result.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals
