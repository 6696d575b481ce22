from django.db import models
from django.utils import timezone


class RetentionRun(models.Model):
    """One run of the retention job: when, and how many rows of each kind it deleted."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, help_text="Rule code → rows deleted.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"retention run {self.started_at:%Y-%m-%d %H:%M}: {self.counts}"


class ErasureRequest(models.Model):
    """An admin's request to erase a departed person, worked through by the task worker.

    The request holds the person's original name and email while it runs (the rewrite
    looks for them; the account itself is anonymised last) and forgets both when done.
    `phase`, `cursor_model` and `cursor_pk` say where the work stands: every batch moves
    them in the same transaction as its writes, so a worker killed mid-batch leaves the
    request exactly where the last committed batch left it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="erasure_requests"
    )
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # Where the work stands: a phase code (erasure_services.PHASES) and, within it, the
    # model being worked on and the last primary key done.
    phase = models.CharField(max_length=20, blank=True)
    cursor_model = models.CharField(max_length=100, blank=True)
    cursor_pk = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=150, blank=True, help_text="Cleared when done.")
    email = models.CharField(max_length=254, blank=True, help_text="Cleared when done.")
    pseudonym = models.CharField(max_length=60)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One unfinished request per person: a second submit finds the first.
            models.UniqueConstraint(
                fields=["user"],
                condition=~models.Q(state="done"),
                name="erasure_one_unfinished_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure of user {self.user_id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
