"""The approval of one ticket: its steps, each step's approvers, and delegations.

When a ticket needing approval is raised, its classification's rules
(`catalog.approval_rules.steps_for`) are copied into `ApprovalStep` rows with their
approvers resolved then (the requester's manager, the named people, the group's SPOCs):
editing the rules later never changes an approval already running. Steps run in
`position` order; only one is `pending` at a time. Writes go through `services.py`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.catalog.models import ApprovalRule
from portal.tickets.models import Ticket

COMMENT_MAX = 2000


class ApprovalStep(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for an earlier step"
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        # The ticket was rejected at an earlier step, or cancelled.
        SKIPPED = "skipped", "Skipped"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="approval_steps")
    position = models.PositiveSmallIntegerField()
    approvers_kind = models.CharField(max_length=10, choices=ApprovalRule.Approvers.choices)
    mode = models.CharField(max_length=3, choices=ApprovalRule.Mode.choices)
    # Why the approvers are not the ones the rule names (no manager, no SPOC): shown to
    # the fallback approvers and in the history.
    fallback_reason = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    # Copied from the ticket so figures per category need no join through tickets.
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Set by the reminder job's claim (exactly once per step, services.remind_due).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "position"], name="approvalstep_unique"),
        ]
        indexes = [
            # The reminder job: pending steps opened before a cut-off, not yet reminded.
            models.Index(
                fields=["opened_at"],
                name="approvalstep_to_remind",
                condition=Q(state="pending", reminded_at__isnull=True),
            ),
            # Figures over a period: decided steps by decision time.
            models.Index(fields=["decided_at", "category"], name="approvalstep_decided"),
        ]

    def __str__(self) -> str:
        return f"Step {self.position} of ticket {self.ticket_id} ({self.state})"

    @property
    def label(self) -> str:
        """How the step reads in history and pages: "Step 1 · the requester's manager"."""
        who = ApprovalRule.Approvers(self.approvers_kind).label
        mode = "all of them" if self.mode == ApprovalRule.Mode.ALL else "any one of them"
        return f"Step {self.position} · {who[0].lower()}{who[1:]}, {mode}"


class Approver(models.Model):
    """One person asked to decide a step; their decision, or blank while pending."""

    class Decision(models.TextChoices):
        PENDING = "", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="approvers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    comment = models.TextField(max_length=COMMENT_MAX, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Who pressed the button: the approver, or their delegate.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["step", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "user"], name="approver_unique"),
        ]
        indexes = [
            # "My pending approvals": the person's undecided rows.
            models.Index(
                fields=["user", "step"], name="approver_pending", condition=Q(decision="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.step}"


class Delegation(models.Model):
    """While `user` is away (`starts_on`..`ends_on`, both days included), `delegate` may
    decide the approvals asked of them, and is told of new ones."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_delegations"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_delegated"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="delegation_dates_in_order"
            ),
            models.CheckConstraint(condition=~Q(user=F("delegate")), name="delegation_not_self"),
        ]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="delegation_delegate")]

    def __str__(self) -> str:
        return f"{self.delegate} for {self.user} ({self.starts_on}–{self.ends_on})"
