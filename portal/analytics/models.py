"""Page views per section per day: the portal's privacy-respecting usage tracking.

One row per (day, section) holding a counter. Nothing about who looked is stored: no user,
no IP address, no user agent, no full path (a path can carry a ticket number or a search).
"""

from django.db import models


class PageView(models.Model):
    """How many pages of one section of the portal were viewed on one day."""

    day = models.DateField()
    section = models.CharField(max_length=20)
    views = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "section"]
        constraints = [
            # The upsert (INSERT … ON CONFLICT (day, section)) relies on this key.
            models.UniqueConstraint(fields=["day", "section"], name="pageview_day_section"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.section}: {self.views}"
