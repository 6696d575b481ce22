"""Registered webhooks, the hosts admins allow on private networks, and the outbox."""

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.TextChoices):
    """What a webhook can subscribe to. The values are the payload's `type`."""

    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_ASSIGNED = "ticket.assigned", "Ticket assigned"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "Ticket status changed"
    TICKET_COMMENTED = "ticket.commented", "Comment added"
    SLA_AT_RISK = "ticket.sla_at_risk", "SLA at risk"
    SLA_BREACHED = "ticket.sla_breached", "SLA breached"


class Format(models.TextChoices):
    STANDARD = "standard", "Standard Webhooks (JSON)"
    TEAMS = "teams", "Microsoft Teams (Adaptive Card)"
    SLACK = "slack", "Slack (incoming webhook)"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Webhook(models.Model):
    """An endpoint told about ticket events: for the whole organisation, or for one team's
    tickets (the team the ticket is in after the change)."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event codes (see `Event`).")
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.STANDARD)
    secret = models.CharField(max_length=100, default=new_secret)
    team = models.ForeignKey(
        "catalog.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        help_text="Empty: every ticket in the organisation.",
    )
    include_internal = models.BooleanField(
        default=False, help_text="Also internal notes and the events about them."
    )
    is_active = models.BooleanField(default=True)
    # Deliveries that failed for good in a row; at WEBHOOK_DISABLE_AFTER the hook is disabled.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [labels.get(code, code) for code in self.events]


class AllowedHost(models.Model):
    """A host name an admin allows although it resolves to a private address (on-premises
    receivers). Compared exactly, lower-case; no wildcards."""

    host = models.CharField(max_length=253, unique=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row, written in the event's transaction.

    The body is rendered when the row is written, so every attempt sends the same bytes
    under the same `webhook-id` (the row's `message_id`); receivers drop repeats by it.
    `event_key` + webhook is unique: one event is never queued twice for one hook.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_key = models.CharField(max_length=200)
    message_id = models.CharField(max_length=64, unique=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_key"], name="webhook_delivery_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status="queued"),
            ),
            models.Index(fields=["webhook", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook_id} ({self.status})"
