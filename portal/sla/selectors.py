"""Shared reads: which policy applies, and calendars as business_time value objects."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q

from portal.lib.cache_versions import cached
from portal.sla.business_time import Calendar, CalendarError
from portal.sla.invalidation import SLA_VERSION
from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours

CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ResolvedTarget:
    """What a ticket with a given classification and priority is held to."""

    calendar: Calendar
    first_response: timedelta
    resolution: timedelta
    policy_id: int
    policy_name: str
    calendar_id: int


def policy_for(
    group_id: int | None, category_id: int | None, priority: str
) -> ResolvedTarget | None:
    """The targets for a classification: category override, else group override, else default.

    Inactive policies are ignored. None when no policy applies (no active default) —
    callers then show "no SLA" rather than guess. A policy whose calendar has no working
    hours is skipped in the same way.

    Every ticket raised asks it, and the answer only changes with the SLA definitions: it
    is read with three queries (`_policy_for`), then kept in the shared cache until any
    of them changes (`portal/sla/invalidation.py` starts a new "sla" version).
    """
    return cached(  # None (no SLA) too
        SLA_VERSION,
        ["policy", group_id or 0, category_id or 0, priority],
        lambda: _policy_for(group_id, category_id, priority),
        timeout=CACHE_SECONDS,
    )


def _policy_for(
    group_id: int | None, category_id: int | None, priority: str
) -> ResolvedTarget | None:
    """`policy_for` read from the database: three queries whatever matches (the candidate
    policies with their calendar, that calendar's working hours, its holidays)."""
    scopes = Q(group__isnull=True, category__isnull=True)
    if group_id is not None:
        scopes |= Q(group_id=group_id)
    if category_id is not None:
        scopes |= Q(category_id=category_id)
    candidates = list(SlaPolicy.objects.filter(scopes, is_active=True).select_related("calendar"))
    if not candidates:
        return None

    def rank(policy: SlaPolicy) -> int:
        return 0 if policy.category_id else 1 if policy.group_id else 2

    policy = min(candidates, key=rank)
    stored = policy.calendar
    hours: dict[int, list] = {}
    for row in WorkingHours.objects.filter(calendar=stored).order_by("start"):
        hours.setdefault(row.weekday, []).append((row.start, row.end))
    if not hours:
        return None
    holidays = Holiday.objects.filter(calendar=stored).values_list("date", flat=True)
    first_response, resolution = policy.targets(priority)
    return ResolvedTarget(
        calendar=Calendar.build(stored.time_zone, hours, holidays),
        first_response=first_response,
        resolution=resolution,
        policy_id=policy.pk,
        policy_name=policy.name,
        calendar_id=stored.pk,
    )


def calendar_list():
    """Calendars for the admin list, with counts (one query)."""
    return BusinessCalendar.objects.annotate(
        hours_count=Count("working_hours", distinct=True),
        holiday_count=Count("holidays", distinct=True),
    ).order_by("-is_default", "name")


def policy_list():
    """Policies for the admin list with their calendar and scope names (one query)."""
    return SlaPolicy.objects.select_related("calendar", "group", "category__group").order_by(
        "-is_active", "name"
    )


def default_calendar() -> Calendar | None:
    """The default calendar as a value object (three queries); None if there is none or it
    has no working hours yet."""
    stored = (
        BusinessCalendar.objects.filter(is_default=True)
        .prefetch_related("working_hours", "holidays")
        .first()
    )
    if stored is None:
        return None
    try:
        return stored.as_calendar()
    except CalendarError:
        return None
