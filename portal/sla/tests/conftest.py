"""SLA test fixtures, and hypothesis settings: enough examples to find edge cases, fast
enough to run on every commit. `HYPOTHESIS_PROFILE=sla-thorough` runs ten times as many."""

import os
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, settings

# deadline=None: the first call into a zone loads tz data and would trip the 200 ms
# default deadline at random. database=None: the tree is shared; no .hypothesis/ writes.
settings.register_profile(
    "sla",
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "sla-thorough",
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sla"))


def targets(hours: float) -> dict:
    """All eight targets derived from one number, so tests can tell policies apart."""
    h = timedelta(hours=hours)
    return {
        "urgent_first_response": h,
        "urgent_resolution": 2 * h,
        "high_first_response": 3 * h,
        "high_resolution": 4 * h,
        "medium_first_response": 5 * h,
        "medium_resolution": 6 * h,
        "low_first_response": 7 * h,
        "low_resolution": 8 * h,
    }


@pytest.fixture
def office(db):
    """London, Monday to Friday 09:00-17:30, default calendar, Christmas Day 2026 off."""
    from portal.sla import services

    calendar = services.calendar_create(
        name="London office",
        time_zone="Europe/London",
        is_default=True,
        hours={day: [(time(9), time(17, 30))] for day in range(5)},
    )
    services.holiday_add(calendar=calendar, date=date(2026, 12, 25), name="Christmas Day")
    return calendar


@pytest.fixture
def default_policy(office):
    from portal.sla.models import SlaPolicy

    return SlaPolicy.objects.create(name="Standard", calendar=office, **targets(1))
