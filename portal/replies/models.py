"""Canned replies: a title and a Markdown body with placeholders (see placeholders.py).

A reply belongs either to one person (personal) or to one team (shared with its members,
managed by its leads and admins); a check constraint keeps exactly one of the two set.
Writes go through `services.py`, reads through `access.py`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.catalog.models import Team

TITLE_MAX = 120
BODY_MAX = 10_000


class CannedReply(models.Model):
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        db_index=False,  # the (owner, title) index below serves it
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        db_index=False,  # the (team, title) index below serves it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner__isnull=False) & Q(team__isnull=True))
                | (Q(owner__isnull=True) & Q(team__isnull=False)),
                name="cannedreply_personal_xor_team",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "title"], name="cannedreply_owner_title"),
            models.Index(fields=["team", "title"], name="cannedreply_team_title"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None
