"""Business calendars and SLA policies (stored definitions; the arithmetic is business_time).

A BusinessCalendar has WorkingHours (several intervals a weekday allowed) and Holidays.
An SlaPolicy ties first-response and resolution targets per priority to a calendar; with
no scope it is the default, or it overrides the default for one business unit group or one
category (category beats group beats default: see selectors.policy_for).
"""

from datetime import time, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from portal.catalog.models import BusinessUnitGroup, Category, Priority
from portal.sla.business_time import Calendar

MIDNIGHT = time(0)


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (read once; the set does not change)."""
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "“%(value)s” is not a known IANA time zone (for example Europe/London).",
            code="invalid_time_zone",
            params={"value": value},
        )


class Weekday(models.IntegerChoices):
    """date.weekday() numbering, so business_time can use the value directly."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessCalendar(models.Model):
    """When the clock runs: a time zone, working hours per weekday, and holidays."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/London. Working hours are wall-clock times here.",
    )
    is_default = models.BooleanField(
        "default calendar", default=False, help_text="Used when nothing names a calendar."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="sla_one_default_calendar",
                violation_error_message="Another calendar is already the default.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        """The value object business_time works with (reads hours and holidays: use
        prefetch_related("working_hours", "holidays") when loading several)."""
        hours: dict[int, list[tuple[time, time]]] = {}
        for row in self.working_hours.all():
            hours.setdefault(row.weekday, []).append((row.start, row.end))
        return Calendar.build(
            self.time_zone, hours, (holiday.date for holiday in self.holidays.all())
        )


class WorkingHours(models.Model):
    """One working interval on a weekday, local wall-clock time; an end of 00:00 is midnight.

    Intervals do not cross midnight: a night shift is two rows (22:00-00:00, 00:00-06:00 the
    next day). Overlaps on the same day are refused by the service, not the database.
    """

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")) | Q(end=MIDNIGHT),
                name="sla_working_hours_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="sla_working_hours_weekday"
            ),
        ]

    def __str__(self) -> str:
        end = "24:00" if self.end == MIDNIGHT else f"{self.end:%H:%M}"
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{end}"


class Holiday(models.Model):
    """A local date on which the calendar does not work."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="sla_holiday_unique_date",
                violation_error_message="This calendar already has a holiday on that date.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


POSITIVE = [MinValueValidator(timedelta(minutes=1), "A target must be at least one minute.")]


def _target(label: str) -> models.DurationField:
    return models.DurationField(label, validators=POSITIVE, help_text="Business time.")


class SlaPolicy(models.Model):
    """Targets per priority, measured in business time on `calendar`.

    The targets are columns, not rows: priorities are a closed set (catalog.Priority), every
    policy must define all of them, and one row is one read.
    """

    name = models.CharField(max_length=120, unique=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    group = models.ForeignKey(
        BusinessUnitGroup,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text="Override for one business unit group.",
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text="Override for one category (beats a group override).",
    )
    is_active = models.BooleanField("active", default=True)

    urgent_first_response = _target("urgent: first response")
    urgent_resolution = _target("urgent: resolution")
    high_first_response = _target("high: first response")
    high_resolution = _target("high: resolution")
    medium_first_response = _target("medium: first response")
    medium_resolution = _target("medium: resolution")
    low_first_response = _target("low: first response")
    low_resolution = _target("low: resolution")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(group__isnull=True) | Q(category__isnull=True),
                name="sla_policy_one_scope",
                violation_error_message="Override either a group or a category, not both.",
            ),
            # At most one active policy per scope, so the lookup never has to choose.
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(is_active=True, category__isnull=False),
                name="sla_policy_one_per_category",
                violation_error_message="This category already has an active policy.",
            ),
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(is_active=True, group__isnull=False),
                name="sla_policy_one_per_group",
                violation_error_message="This group already has an active policy.",
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True, group__isnull=True, category__isnull=True),
                name="sla_policy_one_default",
                violation_error_message="There is already an active default policy.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        if self.category_id:
            return f"Category: {self.category}"
        if self.group_id:
            return f"Group: {self.group}"
        return "Default"

    def targets(self, priority: str) -> tuple[timedelta, timedelta]:
        """(first response, resolution) for a priority value ("low" ... "urgent")."""
        value = Priority(priority).value  # ValueError on anything else
        return getattr(self, f"{value}_first_response"), getattr(self, f"{value}_resolution")

    def target_rows(self) -> list[tuple[str, timedelta, timedelta]]:
        """(label, first response, resolution) from most to least urgent, for display."""
        return [
            (label, *self.targets(value))
            for value, label in reversed(Priority.choices)  # Priority lists low first
        ]
