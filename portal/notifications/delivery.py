"""Sending outbox rows over SMTP: claim, send, record; retry temporary failures with backoff.

Exactly-once in practice: a row is claimed with a conditional UPDATE (only one worker can
move it from queued to sending), and marked sent right after the server accepts it. If a
worker dies between the server's "250 OK" and that write, the row is found stuck in
"sending" and re-sent with the *same* Message-ID, which mail clients use to drop the copy.

A circuit breaker keeps a dead or hanging server from costing a timeout per message: a
failure of the server itself (no connection, no greeting, no answer, our login refused)
ends the batch, and the rest waits. While mail is deferred and nothing is due, each sweep
tries the oldest deferred message early (a probe that costs it no attempt); the first
message that goes through puts every deferred one back in the queue at once, so mail
flows within a sweep period of the server's recovery, not at the next scheduled retry.
"""

import datetime as dt
import functools
import logging
import operator
import smtplib
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db.models import F, Q
from django.utils import timezone

from portal.lib.db import DATABASE_ERRORS, retry_through_outage
from portal.notifications import rendering
from portal.notifications.models import EmailDelivery, EmailSuppression

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


# Failures of the server (or of our account on it), not of one message: any other message
# would fail the same way right now. smtplib's errors are OSErrors too, hence the order.
SERVER_FAILURES = (
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPHeloError,
    TimeoutError,
    ConnectionError,
    socket.gaierror,
)
SEND_ERRORS = (TimeoutError, smtplib.SMTPException, OSError, ValueError, UnicodeError)


def is_server_failure(exc: BaseException) -> bool:
    return isinstance(exc, SERVER_FAILURES) or type(exc) is OSError


def _server_failure_names() -> list[str]:
    names = {cls.__name__ for cls in SERVER_FAILURES} | {"OSError"}
    names |= {cls.__name__ for cls in ConnectionError.__subclasses__()}
    return sorted(names)


# Rows whose last error (written by describe()) was a failure of the server.
DEFERRED_BY_SERVER = functools.reduce(
    operator.or_, (Q(last_error__startswith=f"{name}:") for name in _server_failure_names())
)


@dataclass(frozen=True)
class Outcome:
    status: str  # the row's status afterwards, or "skipped"
    server_failed: bool = False


def build_message(delivery: EmailDelivery) -> EmailMultiAlternatives:
    """The message as sent. Besides the signed Message-ID and the thread's root in
    In-Reply-To/References (portal.lib.emails), every message says it was sent by a
    program (RFC 3834 `Auto-Submitted`), asks Exchange not to answer it with an
    out-of-office (`X-Auto-Response-Suppress`), and names the portal in `X-Loop`, so a
    responder that honours none of them still shows the portal its own mail coming back."""
    headers = {
        "Message-ID": delivery.message_id,
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Loop": settings.FROM_EMAIL,
    }
    if delivery.thread_id:
        headers["In-Reply-To"] = delivery.thread_id
        headers["References"] = delivery.thread_id
    reply_to = getattr(settings, "EMAIL_REPLY_TO", "")
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.body_text,
        from_email=settings.FROM_EMAIL,
        to=[delivery.to_address],
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    message.attach_alternative(delivery.body_html, "text/html")
    return message


def claim(delivery_id, *, now: dt.datetime, probe: bool = False) -> bool:
    """Take a queued row for sending. A probe takes one before its time and is not counted
    as an attempt: it tests the server, and must not use up the message's retries."""
    rows = EmailDelivery.objects.filter(pk=delivery_id, status=Status.QUEUED)
    if probe:
        return bool(rows.update(status=Status.SENDING, claimed_at=now))
    return bool(
        rows.filter(next_attempt_at__lte=now).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def deliver(delivery_id, *, now: dt.datetime | None = None) -> str:
    """Try to send one delivery; returns its status afterwards (or "skipped")."""
    return attempt(delivery_id, now=now or timezone.now()).status


def attempt(delivery_id, *, now: dt.datetime, probe: bool = False) -> Outcome:
    if not claim(delivery_id, now=now, probe=probe):
        return Outcome("skipped")  # sent, failed for good, not due, or another worker has it
    try:
        delivery = EmailDelivery.objects.select_related("recipient").get(pk=delivery_id)
    except DATABASE_ERRORS:
        # Nothing went out: hand the row back rather than leave it "sending" until the
        # stuck-row timeout.
        _record(
            EmailDelivery.objects.filter(pk=delivery_id, status=Status.SENDING),
            status=Status.QUEUED,
            attempts=F("attempts") - (0 if probe else 1),
        )
        raise
    if EmailSuppression.objects.filter(address=delivery.to_address.lower()).exists():
        # A bounce said this address does not exist: sending again only earns another.
        _record(
            EmailDelivery.objects.filter(pk=delivery.pk),
            status=Status.FAILED,
            last_error="Suppressed: an earlier message to this address bounced for good.",
        )
        return Outcome(Status.FAILED)
    if delivery.pending is not None and not write_message(delivery, now=now):
        return Outcome(Status.FAILED)
    if not (delivery.subject or delivery.body_text):
        # Neither written nor to be written: what a worker from before the outbox kept
        # contexts would leave, or a migration undone. Sending would mail a blank message.
        rows = EmailDelivery.objects.filter(pk=delivery.pk)
        _record(rows, status=Status.FAILED, last_error="Nothing to send: the message is empty.")
        return Outcome(Status.FAILED)
    mailer = mailers.default  # a new connection each time
    try:
        mailer.open()
        mailer.send_messages([build_message(delivery)])
    except SEND_ERRORS as exc:
        _close_quietly(mailer)
        status = _record_failure(delivery, exc, now, probe=probe)
        return Outcome(status, server_failed=is_server_failure(exc))
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
    return Outcome(Status.SENT)


def write_message(delivery: EmailDelivery, *, now: dt.datetime) -> bool:
    """Write the message from the event's values and store it, before the first attempt:
    retries and the delivery log then show exactly what was sent. A template that cannot
    render would fail the same way every time: the row fails at once, and admins are told."""
    try:
        message = rendering.render(delivery)
    except Exception as exc:  # noqa: BLE001 (any template error; the row records which)
        error = f"Could not write the message: {describe(exc)}"
        rows = EmailDelivery.objects.filter(pk=delivery.pk)
        _record(rows, status=Status.FAILED, last_error=error)
        log.error("email not rendered", extra={"delivery": str(delivery.pk), "error": error})
        from portal.notifications.alerts import alert_failed_mail

        alert_failed_mail(delivery=delivery, error=error, now=now)
        return False
    changes = {"subject": message.subject, "body_text": message.text, "body_html": message.html}
    _record(EmailDelivery.objects.filter(pk=delivery.pk), pending=None, **changes)
    for name, value in changes.items():
        setattr(delivery, name, value)
    delivery.pending = None
    return True


def _record(rows, **changes) -> None:
    """An outcome update that rides out a database outage of up to EMAIL_RECORD_RETRY_SECONDS."""
    retry_through_outage(lambda: rows.update(**changes), within=settings.EMAIL_RECORD_RETRY_SECONDS)


def _close_quietly(mailer) -> None:
    """QUIT after the answer that matters: a server that drops the line here lost nothing."""
    try:
        mailer.close()
    except (smtplib.SMTPException, OSError):
        pass


def _record_failure(
    delivery: EmailDelivery, exc: BaseException, now: dt.datetime, *, probe: bool = False
) -> str:
    give_up = is_permanent(exc) or (not probe and delivery.attempts >= settings.EMAIL_MAX_ATTEMPTS)
    status = Status.FAILED if give_up else Status.QUEUED
    changes: dict[str, object] = {"status": status, "last_error": describe(exc)}
    if not probe:  # a failed probe keeps the retry time it had
        changes["next_attempt_at"] = now + backoff(delivery.attempts)
    _record(EmailDelivery.objects.filter(pk=delivery.pk), **changes)
    log.warning(
        "email failed" if give_up else "email deferred",
        extra={"delivery": str(delivery.pk), "attempts": delivery.attempts, "error": describe(exc)},
    )
    if give_up:
        from portal.notifications.alerts import alert_failed_mail

        alert_failed_mail(delivery=delivery, error=describe(exc), now=now)
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


def probe_ids(*, now: dt.datetime) -> list:
    """The circuit's half-open test: the oldest message deferred by a server failure."""
    return list(
        EmailDelivery.objects.filter(DEFERRED_BY_SERVER, status=Status.QUEUED)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1]
    )


def release_deferred(*, now: dt.datetime) -> int:
    """The server is back: every message it deferred is due now, not at its retry time."""
    return EmailDelivery.objects.filter(
        DEFERRED_BY_SERVER, status=Status.QUEUED, next_attempt_at__gt=now
    ).update(next_attempt_at=now)


def send_batch(delivery_ids, *, now: dt.datetime, probe: bool = False) -> tuple[dict, bool, bool]:
    """Send these rows until the server fails. Returns (counts by status, whether the server
    failed, whether a success released what it had deferred: see the module docstring)."""
    counts: dict[str, int] = {}
    released = False
    for delivery_id in delivery_ids:
        outcome = attempt(delivery_id, now=now, probe=probe)
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if outcome.server_failed:
            return counts, True, released  # the others would only wait for the same timeout
        if outcome.status == Status.SENT and not released:
            released = release_deferred(now=now) > 0
    return counts, False, released


def sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send everything due. Run periodically by the worker; safe to run anywhere, any time.

    With nothing due but mail deferred by a server failure, it probes (see above)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    ids = due_delivery_ids(now=now)
    probe = not ids
    if probe:
        ids = probe_ids(now=now)
    for _ in range(3):  # a pass, and again for what its first success released
        batch, server_failed, released = send_batch(ids, now=now, probe=probe)
        for status, n in batch.items():
            counts[status] = counts.get(status, 0) + n
        if server_failed or not released:
            break
        ids, probe = due_delivery_ids(now=now), False
    return counts
