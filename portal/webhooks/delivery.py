"""Sending outbox rows to their webhooks: claim, sign, post, record; retry with backoff.

The same shape as the email outbox (portal/notifications/delivery.py):
- a row is claimed with a conditional UPDATE (queued → sending), so one worker sends it;
- every attempt sends the same body under the same `webhook-id` (the row's message id),
  signed afresh with the attempt's timestamp; a row a dead worker left in "sending" is
  sent again after WEBHOOK_STUCK_AFTER_SECONDS with the same id, which receivers use to
  drop the copy;
- a 2xx answer is success; a timeout, a lost connection, 408, 425, 429 or 5xx is
  temporary (retried after 1, 2, 4 … minutes, capped, for WEBHOOK_MAX_ATTEMPTS attempts);
  any other answer (including a 3xx: redirects are not followed) and a URL the SSRF guard
  refuses fail for good at once;
- a circuit breaker per endpoint: when a hook's receiver times out or cannot be reached,
  the rest of that hook's rows wait for their own retry time instead of each costing a
  timeout in this sweep; other hooks are not held up;
- WEBHOOK_DISABLE_AFTER deliveries of one hook failing for good in a row switch the hook
  off and tell the admins once (alerts.py); a success resets the count.
Only the status code and the first 500 characters of an answer are kept.
"""

import datetime as dt
import http.client
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from portal.lib.db import DATABASE_ERRORS, retry_through_outage
from portal.webhooks import guard, services, signing
from portal.webhooks.models import WebhookDelivery

log = logging.getLogger("portal.webhooks")
Status = WebhookDelivery.Status
TEMPORARY_STATUSES = {408, 425, 429}
USER_AGENT = "TicketingPortal-Webhooks/1"


def backoff(attempts: int) -> dt.timedelta:
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class Outcome:
    status: str  # the row's status afterwards, or "skipped"
    endpoint_failed: bool = False  # the receiver could not be reached or did not answer


@dataclass(frozen=True)
class Failure:
    error: str
    permanent: bool
    response: guard.Response | None = None
    endpoint_failed: bool = False


def claim(delivery_id, *, now: dt.datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            status=Status.QUEUED,
            next_attempt_at__lte=now,
            webhook__is_active=True,
        ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def deliver(delivery_id, *, now: dt.datetime | None = None, resolver=None) -> str:
    """Try to send one delivery; returns its status afterwards (or "skipped")."""
    return attempt(delivery_id, now=now or timezone.now(), resolver=resolver).status


def attempt(delivery_id, *, now: dt.datetime, resolver=None) -> Outcome:
    if not claim(delivery_id, now=now):
        return Outcome("skipped")  # delivered, failed, not due, hook off, or taken
    try:
        row = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
        allowed = guard.allowed_hosts()
    except DATABASE_ERRORS:
        _record(delivery_id, status=Status.QUEUED, attempts=F("attempts") - 1)
        raise
    body = row.body.encode()
    try:
        target = guard.resolve(row.webhook.url, allowed=allowed, **_resolver(resolver))
        response = guard.post(target, body=body, headers=_headers(row, body))
    except guard.Refused as exc:
        return _fail(row, Failure(str(exc), permanent=True), now)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
        return _fail(row, Failure(error, permanent=False, endpoint_failed=True), now)
    if 200 <= response.status < 300:
        _record(
            row.pk,
            status=Status.SENT,
            sent_at=timezone.now(),
            response_status=response.status,
            response_excerpt=response.excerpt,
            last_error="",
        )
        services.webhook_record_success(hook_id=row.webhook_id)
        log.info("webhook delivered", extra={"delivery": str(row.pk), "status": response.status})
        return Outcome(Status.SENT)
    temporary = response.status >= 500 or response.status in TEMPORARY_STATUSES
    error = f"HTTP {response.status}"
    if 300 <= response.status < 400:
        error += " (a redirect: redirects are not followed; use the final URL)"
    return _fail(row, Failure(error, permanent=not temporary, response=response), now)


def _resolver(resolver) -> dict:
    return {"resolver": resolver} if resolver is not None else {}


def _headers(row: WebhookDelivery, body: bytes) -> dict[str, str]:
    timestamp = int(timezone.now().timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.headers(
            secret=row.webhook.secret, message_id=row.message_id, timestamp=timestamp, body=body
        ),
    }


def _record(delivery_id, **changes) -> None:
    """An outcome update that rides out a short database outage (see the email outbox)."""
    retry_through_outage(
        lambda: WebhookDelivery.objects.filter(pk=delivery_id).update(**changes),
        within=settings.WEBHOOK_RECORD_RETRY_SECONDS,
    )


def _fail(row: WebhookDelivery, failure: Failure, now: dt.datetime) -> Outcome:
    give_up = failure.permanent or row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    status = Status.FAILED if give_up else Status.QUEUED
    _record(
        row.pk,
        status=status,
        next_attempt_at=now + backoff(row.attempts),
        last_error=failure.error[:500],
        response_status=failure.response.status if failure.response else None,
        response_excerpt=failure.response.excerpt if failure.response else "",
    )
    log.warning(
        "webhook failed" if give_up else "webhook deferred",
        extra={"delivery": str(row.pk), "attempts": row.attempts, "error": failure.error},
    )
    if give_up:
        reason = (
            f"{settings.WEBHOOK_DISABLE_AFTER} deliveries in a row failed; "
            f"the last: {failure.error}"
        )
        switched_off = services.webhook_record_failure(
            hook_id=row.webhook_id, limit=settings.WEBHOOK_DISABLE_AFTER, reason=reason
        )
        if switched_off:
            from portal.webhooks.alerts import alert_disabled

            alert_disabled(hook=row.webhook, reason=reason)
    return Outcome(status, endpoint_failed=failure.endpoint_failed)


def due_delivery_ids(*, now: dt.datetime, limit: int = 500) -> list:
    """Queued rows whose time has come (of active hooks), and rows a dead worker left."""
    stuck_before = now - dt.timedelta(seconds=settings.WEBHOOK_STUCK_AFTER_SECONDS)
    WebhookDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Status.QUEUED, next_attempt_at=now
    )
    return list(
        WebhookDelivery.objects.filter(
            status=Status.QUEUED, next_attempt_at__lte=now, webhook__is_active=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def send_batch(delivery_ids, *, now: dt.datetime, resolver=None) -> dict[str, int]:
    """Send these rows; a hook whose receiver fails to answer is skipped for the rest."""
    counts: dict[str, int] = {}
    tripped: set[int | None] = set()  # None: a delivery whose row is gone
    hooks = dict(
        WebhookDelivery.objects.filter(pk__in=delivery_ids).values_list("pk", "webhook_id")
    )
    for delivery_id in delivery_ids:
        hook_id = hooks.get(_as_uuid(delivery_id))
        if hook_id in tripped:
            counts["deferred"] = counts.get("deferred", 0) + 1
            continue
        outcome = attempt(delivery_id, now=now, resolver=resolver)
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if outcome.endpoint_failed:
            tripped.add(hook_id)
    return counts


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def sweep(*, now: dt.datetime | None = None, resolver=None) -> dict[str, int]:
    """Send everything due. Run periodically by the worker; safe to run anywhere."""
    now = now or timezone.now()
    return send_batch(due_delivery_ids(now=now), now=now, resolver=resolver)
