"""Demo calendar and policies for `make run` (idempotent: run it as often as you like)."""

from datetime import time, timedelta

from django.db import transaction

from portal.catalog.models import BusinessUnitGroup
from portal.sla import services
from portal.sla.models import BusinessCalendar, SlaPolicy

CALENDAR_NAME = "UK office"
DEFAULT_POLICY = "Standard"
OVERRIDE_POLICY = "Faster for {group}"

# England and Wales bank holidays (substitute days where the date falls on a weekend).
UK_BANK_HOLIDAYS = """\
# England and Wales bank holidays 2026-2027
2026-01-01 New Year's Day
2026-04-03 Good Friday
2026-04-06 Easter Monday
2026-05-04 Early May bank holiday
2026-05-25 Spring bank holiday
2026-08-31 Summer bank holiday
2026-12-25 Christmas Day
2026-12-28 Boxing Day (substitute day)
2027-01-01 New Year's Day
2027-03-26 Good Friday
2027-03-29 Easter Monday
2027-05-03 Early May bank holiday
2027-05-31 Spring bank holiday
2027-08-30 Summer bank holiday
2027-12-27 Christmas Day (substitute day)
2027-12-28 Boxing Day (substitute day)
"""

H = timedelta(hours=1)
WORKING_DAY = timedelta(hours=8, minutes=30)  # 09:00-17:30

# (first response, resolution) per priority, in business time.
STANDARD_TARGETS = {
    "urgent": (1 * H, 4 * H),
    "high": (4 * H, 1 * WORKING_DAY),
    "medium": (8 * H, 3 * WORKING_DAY),
    "low": (16 * H, 5 * WORKING_DAY),
}
FASTER_TARGETS = {
    "urgent": (timedelta(minutes=30), 2 * H),
    "high": (2 * H, 6 * H),
    "medium": (4 * H, 2 * WORKING_DAY),
    "low": (8 * H, 4 * WORKING_DAY),
}


def _targets(targets: dict) -> dict:
    return {
        f"{priority}_{kind}": value
        for priority, (first, resolution) in targets.items()
        for kind, value in (("first_response", first), ("resolution", resolution))
    }


def _calendar() -> tuple[BusinessCalendar, bool]:
    calendar = BusinessCalendar.objects.filter(name=CALENDAR_NAME).first()
    if calendar is not None:
        return calendar, False
    has_default = BusinessCalendar.objects.filter(is_default=True).exists()
    calendar = services.calendar_create(
        name=CALENDAR_NAME,
        time_zone="Europe/London",
        is_default=not has_default,
        hours={day: [(time(9), time(17, 30))] for day in range(5)},
    )
    return calendar, True


def _policy(name: str, calendar: BusinessCalendar, targets: dict, **scope) -> bool:
    if SlaPolicy.objects.filter(name=name).exists():
        return False
    services.policy_save(
        policy=SlaPolicy(name=name, calendar=calendar, **scope, **_targets(targets))
    )
    return True


@transaction.atomic
def load(users: dict) -> dict[str, int]:
    """The UK office calendar with 2026-2027 bank holidays, a default policy and, when the
    catalog demo has groups, a faster policy for the IT group (or the first group)."""
    calendar, _created = _calendar()
    services.holidays_import(calendar=calendar, text=UK_BANK_HOLIDAYS)
    if not SlaPolicy.objects.filter(
        is_active=True, group__isnull=True, category__isnull=True
    ).exists():
        _policy(DEFAULT_POLICY, calendar, STANDARD_TARGETS)
    group = (
        BusinessUnitGroup.objects.filter(code="IT").first()
        or BusinessUnitGroup.objects.order_by("code").first()
    )
    if group is not None and not SlaPolicy.objects.filter(group=group, is_active=True).exists():
        _policy(OVERRIDE_POLICY.format(group=group.name), calendar, FASTER_TARGETS, group=group)
    return {
        "business calendars": BusinessCalendar.objects.count(),
        "SLA policies": SlaPolicy.objects.count(),
    }
