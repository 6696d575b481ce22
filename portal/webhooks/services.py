"""Every change to webhooks, their allow-list and their outbox (one transaction each)."""

import ipaddress
import logging
import re
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal.lib.cache_versions import bump, cached
from portal.lib.tasks import enqueue_with_data
from portal.webhooks import formats
from portal.webhooks.models import (
    AllowedHost,
    Event,
    Format,
    Webhook,
    WebhookDelivery,
    new_secret,
)

log = logging.getLogger("portal.webhooks")
HOOKS_VERSION = "webhooks"
HOOKS_CACHE_SECONDS = 24 * 3600
Status = WebhookDelivery.Status


class InvalidWebhook(ValidationError):
    """Refused input (a ValidationError, as every service's bad input: CONTRIBUTING.md,
    "Errors"); the message is shown to the admin."""


def hooks_for(*, team_id: int | None, events: set[str]) -> list[Webhook]:
    """Active hooks that want any of `events` about a ticket of this team (the
    organisation's, and the team's own).

    Every change to a ticket asks, and hooks rarely change: the active ones are read once
    (one query) and kept in the shared cache until a hook is saved, deleted or switched
    off (`hooks_changed`).
    """
    return [
        hook
        for hook in _active_hooks()
        if (hook.team_id is None or (team_id and hook.team_id == team_id))
        and events & set(hook.events)
    ]


def _active_hooks() -> list[Webhook]:
    return cached(
        HOOKS_VERSION,
        ["active"],
        lambda: list(
            Webhook.objects.filter(is_active=True).only(
                "id", "team", "events", "format", "include_internal"
            )
        ),
        timeout=HOOKS_CACHE_SECONDS,
    )


def hooks_changed(**kwargs) -> None:
    """The cached active hooks go stale (connected to Webhook's save and delete)."""
    bump(HOOKS_VERSION)


def deliveries_queue(
    *, hooks: list[Webhook], event: str, event_key: str, data: dict, now
) -> list[WebhookDelivery]:
    """Write one outbox row per hook for this event, in the caller's transaction, and the
    task that sends them. A key queued before for a hook is not queued again."""
    if not hooks:
        return []
    timestamp = now.isoformat()
    rows = [
        WebhookDelivery(
            webhook=hook,
            event=event,
            event_key=event_key[:200],
            message_id=f"msg_{uuid.uuid4().hex}",
            body=formats.render(hook.format, event=event, timestamp=timestamp, data=data),
            created_at=now,
            next_attempt_at=now,
        )
        for hook in hooks
    ]
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        _enqueue([row.pk for row in rows])
    return rows


def _clean(*, name: str, url: str, events: list[str], fmt: str) -> None:
    from portal.webhooks.guard import Refused, parse

    if not name.strip():
        raise InvalidWebhook("Give the webhook a name.")
    try:
        parse(url)
    except Refused as exc:
        raise InvalidWebhook(str(exc)) from None
    unknown = set(events) - set(Event.values)
    if not events or unknown:
        raise InvalidWebhook("Choose at least one event from the list.")
    if fmt not in Format.values:
        raise InvalidWebhook("Choose a format from the list.")


def webhook_create(
    *,
    actor,
    name: str,
    url: str,
    events: list[str],
    fmt: str = Format.STANDARD,
    team=None,
    include_internal: bool = False,
) -> Webhook:
    _clean(name=name, url=url, events=events, fmt=fmt)
    with transaction.atomic():
        hook = Webhook.objects.create(
            name=name.strip(),
            url=url,
            events=sorted(set(events)),
            format=fmt,
            team=team,
            include_internal=include_internal,
            created_by=actor,
        )
    log.info("webhook created", extra={"webhook": hook.pk, "actor": actor.pk})
    return hook


def webhook_update(
    *,
    actor,
    hook: Webhook,
    name: str,
    url: str,
    events: list[str],
    fmt: str,
    team=None,
    include_internal: bool = False,
    is_active: bool = True,
) -> Webhook:
    """Change a hook. Switching it back on starts its failure count afresh."""
    _clean(name=name, url=url, events=events, fmt=fmt)
    hook.name, hook.url, hook.events = name.strip(), url, sorted(set(events))
    hook.format, hook.team, hook.include_internal = fmt, team, include_internal
    fields = ["name", "url", "events", "format", "team", "include_internal"]
    if is_active and not hook.is_active:
        hook.is_active, hook.consecutive_failures, hook.disabled_reason = True, 0, ""
        fields += ["is_active", "consecutive_failures", "disabled_reason"]
    elif not is_active and hook.is_active:
        hook.is_active, hook.disabled_reason = False, f"Switched off by {actor.email}"
        fields += ["is_active", "disabled_reason"]
    with transaction.atomic():
        hook.save(update_fields=fields)
    log.info("webhook updated", extra={"webhook": hook.pk, "actor": actor.pk})
    return hook


def webhook_rotate_secret(*, actor, hook: Webhook) -> str:
    hook.secret = new_secret()
    with transaction.atomic():
        hook.save(update_fields=["secret"])
    log.info("webhook secret rotated", extra={"webhook": hook.pk, "actor": actor.pk})
    return hook.secret


def webhook_delete(*, actor, hook: Webhook) -> None:
    """Deletes the hook and its delivery log."""
    with transaction.atomic():
        hook.delete()
    log.info("webhook deleted", extra={"webhook": hook.pk, "actor": actor.pk})


def webhook_record_success(*, hook_id: int) -> None:
    Webhook.objects.filter(pk=hook_id, consecutive_failures__gt=0).update(consecutive_failures=0)


def webhook_record_failure(*, hook_id: int, limit: int, reason: str) -> bool:
    """Count a delivery that failed for good; at `limit` in a row, switch the hook off.
    Returns True only for the call that switched it off (a conditional UPDATE), so the
    admins are told once however many workers fail at the same moment."""
    with transaction.atomic():
        Webhook.objects.filter(pk=hook_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        switched_off = bool(
            Webhook.objects.filter(
                pk=hook_id, is_active=True, consecutive_failures__gte=limit
            ).update(is_active=False, disabled_reason=reason[:300])
        )
        if switched_off:
            hooks_changed()  # an UPDATE sends no model signal
        return switched_off


def delivery_retry(*, delivery: WebhookDelivery, actor) -> bool:
    """An admin asks for another attempt now (failed or waiting). Never a delivered one."""
    with transaction.atomic():
        changed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=[Status.FAILED, Status.QUEUED]
        ).update(status=Status.QUEUED, next_attempt_at=timezone.now())
        if changed:
            _enqueue([delivery.pk])
    log.info("webhook retry requested", extra={"delivery": str(delivery.pk), "actor": actor.pk})
    return bool(changed)


def allowed_host_add(*, actor, host: str, note: str = "") -> AllowedHost:
    host = host.strip().strip("[]").rstrip(".").lower()
    if not _is_host(host):
        raise InvalidWebhook("Enter a host name or an IP address only (no scheme, port or path).")
    with transaction.atomic():
        entry, _ = AllowedHost.objects.get_or_create(
            host=host, defaults={"note": note[:200], "created_by": actor}
        )
    log.info("webhook host allowed", extra={"host": host, "actor": actor.pk})
    return entry


def allowed_host_remove(*, actor, entry: AllowedHost) -> None:
    with transaction.atomic():
        entry.delete()
    log.info("webhook host removed", extra={"host": entry.host, "actor": actor.pk})


HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and HOST_NAME.fullmatch(host) is not None
    return True


def _enqueue(ids: list) -> None:
    """The task commits with the deliveries (a row with the database backend, sent on commit
    with Redis); the periodic sweep is the safety net either way."""
    from portal.webhooks.tasks import deliver_webhooks

    enqueue_with_data(deliver_webhooks, [str(pk) for pk in ids])
