"""Satisfaction ratings: one per resolution of a ticket, by its requester.

A ticket resolved, reopened and resolved again can be rated once per resolution: the
rating names the `resolved_at` it rates (unique with the ticket). Team, assignee and
category are copied from the ticket when it is rated, so the figures per team, agent and
category say who and what was rated even after the ticket moves on.
Writes go through `services.py`; reads through the tickets a user may see (`access.py`).
"""

from django.conf import settings
from django.db import models

from portal.catalog.models import Category, Team
from portal.tickets.models import Ticket

COMMENT_MAX = 2000


class Score(models.TextChoices):
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


class Rating(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ratings")
    resolved_at = models.DateTimeField(help_text="The resolution rated.")
    score = models.CharField(max_length=4, choices=Score.choices)
    comment = models.TextField(max_length=COMMENT_MAX, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "resolved_at"], name="rating_once_per_resolution"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="rating_created")]

    def __str__(self) -> str:
        return f"{self.get_score_display()} for ticket {self.ticket_id}"
