"""Support mailboxes and the ledger of every message read from them.

The ledger (`InboundMessage`) is what makes email in exactly-once: a message is recorded in
the same transaction as the ticket or comment it made, and its IMAP position (mailbox,
UIDVALIDITY, UID) and its content hash are unique, so a re-run, a crash between the write
and the move to the processed folder, or the same mail arriving twice can never make a
second ticket or comment.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.lib.encryption import EncryptedTextField


class Mailbox(models.Model):
    """A support address the portal reads (over IMAP, or as a provider's inbound webhook
    posts it), and where its new mail goes."""

    class Transport(models.TextChoices):
        IMAP = "imap", "IMAP (the worker reads the mailbox)"
        WEBHOOK = "webhook", "Inbound webhook (Mailgun or Postmark posts each message)"

    class Security(models.TextChoices):
        SSL = "ssl", "TLS from the start (port 993)"
        STARTTLS = "starttls", "STARTTLS (port 143)"
        NONE = "none", "None (a server on this machine only)"

    class UnknownSenders(models.TextChoices):
        REPLY = "reply", "Answer once, saying how to reach the portal"
        REFUSE = "refuse", "Ignore (recorded, no answer)"
        CREATE = "create", "Create a requester account for the allowed domains (others: answer)"

    class Auth(models.TextChoices):
        PASSWORD = "password", "Password (or an app password)"
        M365 = "m365", "Microsoft 365: OAuth2 client credentials (XOAUTH2)"

    class Target(models.TextChoices):
        CLASSIFICATION = "classification", "A classification (group, category, subcategory)"
        TRIAGE = "triage", "The triage queue (the admins on triage duty classify each mail)"

    name = models.CharField(max_length=120)
    address = models.EmailField(
        max_length=254, unique=True, help_text="The support address people write to."
    )
    transport = models.CharField(
        max_length=10,
        choices=Transport.choices,
        default=Transport.IMAP,
        help_text="How mail arrives. A webhook mailbox needs no IMAP settings: the provider "
        "posts each message to /mail/inbound/<provider>/ (docs/email-in.md).",
    )
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=254, blank=True)
    auth = models.CharField(max_length=10, choices=Auth.choices, default=Auth.PASSWORD)
    # Secrets are encrypted at rest (portal.lib.encryption) and never shown back: the admin
    # form leaves them blank and keeps them unless a new one is typed.
    password = EncryptedTextField(purpose="mailin.mailbox-password", blank=True)
    oauth_tenant = models.CharField(
        "tenant", max_length=200, blank=True, help_text="Microsoft 365: the directory (tenant) id."
    )
    oauth_client_id = models.CharField(
        "client id", max_length=200, blank=True, help_text="Microsoft 365: the app registration."
    )
    oauth_client_secret = EncryptedTextField(
        "client secret", purpose="mailin.oauth-client-secret", blank=True
    )
    oauth_authority = models.URLField(
        "authority",
        blank=True,
        help_text="Leave blank for https://login.microsoftonline.com/<tenant>.",
    )
    # The cached access token (the poller asks for a new one shortly before it expires).
    access_token = EncryptedTextField(
        purpose="mailin.oauth-access-token", blank=True, editable=False
    )
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    folder = models.CharField(max_length=200, default="INBOX")
    processed_folder = models.CharField(
        max_length=200,
        default="Processed",
        help_text="Read mail is moved here (created when missing), never deleted.",
    )
    # Where a new mail goes: exactly one of a classification (group and category, and
    # optionally a subcategory) or the triage queue (none of them); a check constraint
    # holds it, so no code path can leave a mailbox pointing at half a classification.
    target = models.CharField(
        max_length=20,
        choices=Target.choices,
        default=Target.CLASSIFICATION,
        help_text="Where new mail goes: a ticket in the classification below, or the triage "
        "queue, where the admins on triage duty classify it (the ticket is raised then).",
    )
    group = models.ForeignKey(
        "catalog.BusinessUnitGroup",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="New tickets from this mailbox are raised in this group…",
    )
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="…category…",
    )
    subcategory = models.ForeignKey(
        "catalog.Subcategory",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="…and subcategory (optional); they are routed like tickets raised on the page.",
    )
    unknown_senders = models.CharField(
        max_length=10, choices=UnknownSenders.choices, default=UnknownSenders.REPLY
    )
    allowed_domains = models.CharField(
        max_length=500,
        blank=True,
        help_text="For “create”: the domains whose senders get an account, comma-separated "
        "(example.com, example.org). Subdomains are not included.",
    )
    is_active = models.BooleanField(default=True)
    from_env = models.BooleanField(
        default=False, editable=False, help_text="Kept in step with the INBOUND_IMAP_* settings."
    )
    # The IMAP checkpoint: a new UIDVALIDITY means the server renumbered the folder.
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    # Health, for the admins.
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures_in_a_row = models.PositiveIntegerField(default=0, editable=False)
    # IMAP IDLE: the worker process watching this mailbox, until when (a lease it renews at
    # every IDLE cycle; the periodic poll leaves a watched mailbox alone, and takes over
    # when the lease runs out because that process died or lost the server).
    watched_by = models.CharField(max_length=64, blank=True, editable=False)
    watched_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(target="classification", group__isnull=False, category__isnull=False)
                | Q(
                    target="triage",
                    group__isnull=True,
                    category__isnull=True,
                    subcategory__isnull=True,
                ),
                name="mailbox_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundMessage(models.Model):
    """One message read from a mailbox, and what became of it."""

    class Outcome(models.TextChoices):
        TICKET = "ticket", "Raised a ticket"
        COMMENT = "comment", "Added a comment"
        NOTE = "note", "Added an unverified internal note (the sender cannot see the ticket)"
        DUPLICATE = "duplicate", "Duplicate of a message already read"
        AUTO_REPLY = "auto_reply", "Automatic mail (auto-reply, list, report): not answered"
        BOUNCE = "bounce", "A bounce: the failed delivery marked, a dead address suppressed"
        LOOP = "loop", "The portal's own mail coming back: dropped"
        CAPPED = "capped", "Over the hourly limit of a sender or a ticket: held back"
        UNKNOWN_SENDER = "unknown_sender", "Sender is not a portal user"
        NO_ACCESS = "no_access", "Sender may not write on that ticket"
        REJECTED = "rejected", "Could not be turned into a ticket or comment"
        TRIAGE = "triage", "Waiting in the triage queue to be classified"

    # Outcomes that wrote something (or hold a mail that will): one message makes at most
    # one of them. A mail waiting for triage becomes a ticket on the same row.
    WROTE = (Outcome.TICKET, Outcome.COMMENT, Outcome.NOTE, Outcome.TRIAGE)

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    content_hash = models.CharField(max_length=64)
    sender = models.EmailField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "tickets.Comment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who classified or dismissed a mail of the triage queue: a person, not a name in
    # `detail`, so the ledger names them as they are now (an erased admin's pseudonym).
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered = models.BooleanField(
        default=False, help_text="The sender was sent an automatic answer about this message."
    )
    received_at = models.DateTimeField(default=timezone.now)
    # The message exactly as read, in the attachment storage (for the agents of its ticket).
    raw_key = models.CharField(max_length=300, blank=True)
    raw_sha256 = models.CharField(max_length=64, blank=True)
    raw_size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="inbound_once_per_imap_position"
            ),
            models.UniqueConstraint(
                fields=["content_hash"],
                condition=Q(outcome__in=["ticket", "comment", "note", "triage"]),
                name="inbound_writes_once_per_content",
            ),
        ]
        indexes = [
            # Per-sender caps and "answered once" checks: a sender's recent messages.
            models.Index(fields=["sender", "-received_at"], name="inbound_sender_recent"),
            # The triage queue: the mail waiting to be classified, oldest first.
            models.Index(
                fields=["received_at", "id"],
                condition=Q(outcome="triage"),
                name="inbound_waiting_triage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject} ({self.outcome})"
