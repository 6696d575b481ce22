"""Sending outbox rows over SMTP: claim, send, record; retry temporary failures with backoff.

Exactly-once in practice: a row is claimed with a conditional UPDATE (only one worker can
move it from queued to sending), and marked sent right after the server accepts it. If a
worker dies between the server's "250 OK" and that write, the row is found stuck in
"sending" and re-sent with the *same* Message-ID, which mail clients use to drop the copy.
"""

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db.models import F
from django.utils import timezone

from portal.lib.db import DATABASE_ERRORS, retry_through_outage
from portal.notifications.models import EmailDelivery

log = logging.getLogger("portal.email")
Status = EmailDelivery.Status


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16, 30, 30… minutes by default: ten attempts span over two hours."""
    seconds = settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.EMAIL_RETRY_MAX_SECONDS))


def is_permanent(exc: BaseException) -> bool:
    """Failures that another attempt cannot fix: the server refused this recipient or this
    message with a 5xx, or the message itself is malformed. Authentication and sender
    errors are *temporary*: an admin fixing the configuration lets the queue drain."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return isinstance(exc, (ValueError, UnicodeError))


def describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:2000]


def build_message(delivery: EmailDelivery) -> EmailMultiAlternatives:
    headers = {"Message-ID": delivery.message_id}
    if delivery.thread_id:
        headers["In-Reply-To"] = delivery.thread_id
        headers["References"] = delivery.thread_id
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.body_text,
        from_email=settings.FROM_EMAIL,
        to=[delivery.to_address],
        headers=headers,
    )
    message.attach_alternative(delivery.body_html, "text/html")
    return message


def claim(delivery_id, *, now: dt.datetime) -> bool:
    return bool(
        EmailDelivery.objects.filter(
            pk=delivery_id, status=Status.QUEUED, next_attempt_at__lte=now
        ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def deliver(delivery_id, *, now: dt.datetime | None = None) -> str:
    """Try to send one delivery; returns its status afterwards (or "skipped")."""
    now = now or timezone.now()
    if not claim(delivery_id, now=now):
        return "skipped"  # sent already, failed for good, not due, or another worker has it
    try:
        delivery = EmailDelivery.objects.get(pk=delivery_id)
    except DATABASE_ERRORS:
        # Nothing went out: hand the row back rather than leave it "sending" until the
        # stuck-row timeout.
        _record(
            EmailDelivery.objects.filter(pk=delivery_id, status=Status.SENDING),
            status=Status.QUEUED,
            attempts=F("attempts") - 1,
        )
        raise
    mailer = mailers.default  # a new connection each time
    try:
        mailer.open()
        mailer.send_messages([build_message(delivery)])
    except (TimeoutError, smtplib.SMTPException, OSError, ValueError, UnicodeError) as exc:
        _close_quietly(mailer)
        return _record_failure(delivery, exc, now)
    # The server said 250. Record that first, before even saying QUIT, and hold on through a
    # database outage: this write is all that stands between the recipient and a copy.
    _record(
        EmailDelivery.objects.filter(pk=delivery.pk),
        status=Status.SENT,
        sent_at=timezone.now(),
        last_error="",
    )
    _close_quietly(mailer)
    log.info("email sent", extra={"delivery": str(delivery.pk), "kind": delivery.kind})
    return Status.SENT


def _record(rows, **changes) -> None:
    """An outcome update that rides out a database outage of up to EMAIL_RECORD_RETRY_SECONDS."""
    retry_through_outage(lambda: rows.update(**changes), within=settings.EMAIL_RECORD_RETRY_SECONDS)


def _close_quietly(mailer) -> None:
    """QUIT after the answer that matters: a server that drops the line here lost nothing."""
    try:
        mailer.close()
    except (smtplib.SMTPException, OSError):
        pass


def _record_failure(delivery: EmailDelivery, exc: BaseException, now: dt.datetime) -> str:
    give_up = is_permanent(exc) or delivery.attempts >= settings.EMAIL_MAX_ATTEMPTS
    status = Status.FAILED if give_up else Status.QUEUED
    _record(
        EmailDelivery.objects.filter(pk=delivery.pk),
        status=status,
        last_error=describe(exc),
        next_attempt_at=now + backoff(delivery.attempts),
    )
    log.warning(
        "email failed" if give_up else "email deferred",
        extra={"delivery": str(delivery.pk), "attempts": delivery.attempts, "error": describe(exc)},
    )
    return status


def due_delivery_ids(*, now: dt.datetime, limit: int = 500) -> list:
    """Queued rows whose time has come, and rows stuck in "sending" by a worker that died."""
    stuck_before = now - dt.timedelta(seconds=settings.EMAIL_STUCK_AFTER_SECONDS)
    EmailDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Status.QUEUED, next_attempt_at=now
    )
    return list(
        EmailDelivery.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send everything due. Run periodically by the worker; safe to run anywhere, any time."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for delivery_id in due_delivery_ids(now=now):
        status = deliver(delivery_id, now=now)
        counts[status] = counts.get(status, 0) + 1
    return counts
