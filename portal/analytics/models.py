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


KEY = [
    "measure", "day", "group_id", "category_id", "subcategory_id", "team_id", "assignee_id",
    "priority", "status",
]  # fmt: skip


class TicketCount(models.Model):
    """The daily rollup of tickets the analytics page reads instead of the tickets.

    One row per (measure, day, dimensions) holding a count `n`. Dimensions a measure does
    not use are 0 (ids) or "" (choices), never NULL, so the unique key matches in an
    upsert on every database. Ids are plain integers, not foreign keys: the rollup is
    derived data and must never block deleting or renaming master data.

    Kept exact by `portal.analytics.rollup` (see docs/analytics.md "The daily rollup"):
    every ticket service adds the change's difference in the same transaction with
    `INSERT … ON CONFLICT … DO UPDATE SET n = n + excluded.n`; `manage.py analytics_rollup`
    rebuilds it from the tickets after bulk loads.
    """

    class Measure(models.TextChoices):
        CREATED = "c", "Created (day raised; current status)"
        RESOLVED = "r", "Resolved (day of the current resolution)"
        OPEN = "o", "Open now (no day; current status)"
        OPEN_BY_DAY = "a", "Open now (day raised, for the age buckets)"
        # The open rows summed per team (assignee 0: nobody, -1: someone; priority and
        # status): the admin's dashboard sums a few hundred rows instead of every open
        # combination of group, category and assignee (11,748 rows, 4.5-8 ms at 1M).
        OPEN_PER_TEAM = "t", "Open now per team (no day; assigned or not, priority, status)"
        RESOLUTIONS = "s", "Status changes to Resolved (day of the change)"
        REOPENS = "x", "Status changes from Resolved/Closed back to open (day of the change)"

    measure = models.CharField(max_length=1, choices=Measure.choices)
    day = models.DateField()
    group_id = models.BigIntegerField(default=0)
    category_id = models.BigIntegerField(default=0)
    subcategory_id = models.BigIntegerField(default=0)
    team_id = models.BigIntegerField(default=0)
    assignee_id = models.BigIntegerField(default=0)
    priority = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=12, blank=True)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # The upsert's conflict target.
            models.UniqueConstraint(fields=KEY, name="ticketcount_key"),
        ]
        indexes = [
            # The same columns and `n`: reading a measure's range of days is an index-only
            # scan. A second index rather than INCLUDE, which SQLite does not have.
            models.Index(fields=[*KEY, "n"], name="ticketcount_read"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.day}: {self.n}"
