"""Telling admins that a webhook was switched off because its deliveries kept failing."""

from django.urls import reverse
from django.utils import timezone

from portal.accounts.triage import active_admins
from portal.notifications.kinds import Kind, register_kind
from portal.notifications.services import notify
from portal.webhooks.models import Webhook

WEBHOOK_DISABLED = Kind(
    name="webhook_disabled",
    label="Webhooks switched off after repeated failures (admins)",
    email_template="notice",
    sample_context=lambda: {
        "text": "Webhook “Ops channel” was switched off",
        "body": "5 deliveries in a row failed; the last: HTTP 410",
    },
)
register_kind(WEBHOOK_DISABLED)


def alert_disabled(*, hook: Webhook, reason: str) -> None:
    """Called once per switch-off (the caller won the conditional UPDATE)."""
    admins = active_admins()
    text = f"Webhook “{hook.name}” was switched off"
    notify(
        recipients=admins,
        kind=WEBHOOK_DISABLED.name,
        text=text,
        link=reverse("webhook-detail", args=[hook.pk]),
        context={
            "text": text,
            "body": f"{reason}\nURL: {hook.url}\n"
            "Fix the receiver, then switch the webhook on again; waiting deliveries resume.",
        },
        event_key=f"webhook-disabled:{hook.pk}:{timezone.now().isoformat()}",
    )
