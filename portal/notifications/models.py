"""In-app notifications, per-user email preferences, and the email outbox.

Generic delivery: nothing here knows about tickets. Callers hand over recipients, a kind,
a short text, a link, and (for email) an already-rendered message.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notification(models.Model):
    """One line in a user's bell; `link` is a path inside the portal."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_recipient starts with it
    )
    kind = models.CharField(max_length=50)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell's count and the list: a user's unread ones, newest first.
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.text}"


class EmailPreference(models.Model):
    """A user's choice to receive a kind of notification by email too (in-app is always on).

    No row means the kind's default (see `kinds.py`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=50)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_pref_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'email' if self.email else 'in-app only'}"


class EmailDelivery(models.Model):
    """One message to one recipient: the outbox row, written by the worker from the event's
    `PendingNotice` (which the event's transaction wrote).

    The row keeps the event's values (`pending`: the template context, plain JSON) and the
    worker renders the message from them before its first attempt, storing subject and
    bodies and clearing `pending`: what is retried and shown in the delivery log is then
    exactly what was sent, and the request that caused the event does not pay for the
    rendering. `event_key` + recipient is unique: one event never produces two messages to
    one person.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_deliveries",
    )
    to_address = models.EmailField(max_length=254)
    kind = models.CharField(max_length=50)
    event_key = models.CharField(max_length=200)
    # Empty until the worker renders the message from `pending`.
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # {"context": {...}, "subject_tag": "TKT-000042"} until rendered, then null.
    pending = models.JSONField(null=True, blank=True, editable=False)
    message_id = models.CharField(max_length=255, unique=True)
    thread_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "to_address"], name="email_delivery_once_per_event"
            )
        ]
        indexes = [
            # The sweeper's question: what is due (queued and its time has come)?
            models.Index(
                fields=["next_attempt_at"],
                name="email_delivery_due",
                condition=Q(status="queued"),
            ),
            models.Index(fields=["status", "-created_at"], name="email_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address} ({self.status})"


class EmailSuppression(models.Model):
    """An address mail is no longer sent to: a bounce said it does not exist (5.x.x).

    The outbox marks a message to a suppressed address failed instead of sending it, so a
    dead address costs no retries and its server no more bounces. Stored lower-case."""

    address = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.address}: {self.reason}"


class PendingNotice(models.Model):
    """One event's messages, held until the worker delivers them: the durable record
    `notify_many` writes in the event's transaction (so a rollback leaves nothing and a
    commit loses nothing). The worker expands it into `Notification` and `EmailDelivery`
    rows and deletes it in one transaction (`notice_services.notices_expand`): never twice,
    and a failed expansion leaves it for the next try.

    A notice that keeps failing is not retried forever: each failure sets `retry_at` (a
    wait doubling up to NOTICE_RETRY_MAX_SECONDS), and the NOTICE_MAX_ATTEMPTS-th sets
    `failed_at`: the sweep leaves it, it is kept (the people it names were told nothing)
    and shown to admins until one retries or discards it.

    `messages`: each message's kind, text, link, email context, event key, thread, and the
    ids of the people to tell, decided when the event happened (the actor already left
    out)."""

    messages = models.JSONField()
    # False when the event happened inside `emails_paused()`: in-app notifications only.
    emails = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set by a failure: the sweep tries the notice again from then on (null: not failed yet).
    retry_at = models.DateTimeField(null=True, blank=True)
    # Set when it ran out of attempts: kept for an admin, never swept.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="pending_notice_created")]

    def __str__(self) -> str:
        return f"pending notice {self.pk} ({len(self.messages)} messages)"
