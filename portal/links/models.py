"""A link from one ticket to another. Stored once, shown on both tickets, and only where
the viewer may see the ticket at the other end (`selectors.links_for`)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.tickets.models import Ticket


class LinkKind(models.TextChoices):
    RELATES = "relates", "relates to"
    DUPLICATE = "duplicate", "is a duplicate of"
    BLOCKS = "blocks", "blocks"


# How the link reads from the other end.
INVERSE_LABELS = {
    LinkKind.RELATES: "relates to",
    LinkKind.DUPLICATE: "has a duplicate",
    LinkKind.BLOCKS: "is blocked by",
}


class TicketLink(models.Model):
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="link_once"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="link_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"
