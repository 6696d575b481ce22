"""Retention: deleting what the portal no longer needs, in batches, by the worker.

Each rule names a setting (days; 0 keeps everything) and deletes rows older than that in
batches of RETENTION_BATCH, each batch its own short transaction, so a run over a month's
data never holds locks that pages wait for. Nothing an open ticket needs goes: files only
of tickets closed for the period, mail and webhook rows only once sent or failed for good,
notifications and page-view counts by age alone (they belong to no ticket).
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.accounts.models import SecurityEvent
from portal.analytics.models import PageView
from portal.notifications.models import EmailDelivery, Notification
from portal.retention.models import RetentionRun
from portal.tickets.attachment_services import attachments_expire
from portal.webhooks.models import WebhookDelivery

log = logging.getLogger("portal.retention")


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    setting: str
    # (cutoff, batch size) → rows deleted by one batch (0 when nothing is left).
    delete_batch: Callable[[dt.datetime, int], int]

    def days(self) -> int:
        return getattr(settings, self.setting)


def delete_batch(queryset: QuerySet, batch: int) -> int:
    """Delete up to `batch` rows of `queryset` (by primary key) in one short transaction."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    with transaction.atomic():
        queryset.model.objects.filter(pk__in=ids).delete()
    return len(ids)


def _notifications(cutoff, batch) -> int:
    return delete_batch(Notification.objects.filter(created_at__lt=cutoff), batch)


def _email_deliveries(cutoff, batch) -> int:
    done = [EmailDelivery.Status.SENT, EmailDelivery.Status.FAILED]
    rows = EmailDelivery.objects.filter(created_at__lt=cutoff, status__in=done)
    return delete_batch(rows, batch)


def _webhook_deliveries(cutoff, batch) -> int:
    done = [WebhookDelivery.Status.SENT, WebhookDelivery.Status.FAILED]
    rows = WebhookDelivery.objects.filter(created_at__lt=cutoff, status__in=done)
    return delete_batch(rows, batch)


def _page_views(cutoff, batch) -> int:
    return delete_batch(PageView.objects.filter(day__lt=cutoff.date()), batch)


def _security_log(cutoff, batch) -> int:
    return delete_batch(SecurityEvent.objects.filter(created_at__lt=cutoff), batch)


def _closed_ticket_files(cutoff, batch) -> int:
    return attachments_expire(closed_before=cutoff, batch=batch)


RULES = (
    Rule("closed_ticket_files", "Files of closed tickets", "RETENTION_CLOSED_FILES_DAYS",
         _closed_ticket_files),
    Rule("notifications", "In-app notifications", "RETENTION_NOTIFICATION_DAYS", _notifications),
    Rule("email_deliveries", "Email delivery log (sent or failed)", "RETENTION_EMAIL_DAYS",
         _email_deliveries),
    Rule("webhook_deliveries", "Webhook delivery log (delivered or failed)",
         "RETENTION_WEBHOOK_DAYS", _webhook_deliveries),
    Rule("page_views", "Page-view counts", "RETENTION_PAGE_VIEW_DAYS", _page_views),
    Rule("security_log", "Security log", "RETENTION_SECURITY_LOG_DAYS", _security_log),
)  # fmt: skip


def retention_run(*, now: dt.datetime | None = None) -> RetentionRun:
    """Apply every rule whose period is set; record and log how many rows each deleted."""
    now = now or timezone.now()
    batch = settings.RETENTION_BATCH
    run = RetentionRun.objects.create(started_at=now)
    counts = {}
    for rule in RULES:
        days = rule.days()
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        deleted = 0
        while (n := rule.delete_batch(cutoff, batch)) > 0:
            deleted += n
            if n < batch:
                break
        counts[rule.code] = deleted
    run.counts, run.finished_at = counts, timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    log.info("retention run", extra={"counts": counts})
    return run
