"""An always-open UTC calendar and a default policy, so business time equals wall time and
every expected instant in the SLA tests is plain arithmetic; plus a controllable clock.

The services read the time from `django.utils.timezone.now`; `clock_at(instant)` makes it
return `instant` (the database and everything else stay real).
"""

import contextlib
import datetime as dt
from datetime import time, timedelta
from unittest import mock

import pytest

from portal.sla import services as sla_services
from portal.sla.models import SlaPolicy

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, outside any DST change
H = timedelta(hours=1)

# (first response, resolution) per priority.
TARGETS = {
    "urgent": (H, 4 * H),
    "high": (2 * H, 8 * H),
    "medium": (4 * H, 20 * H),
    "low": (8 * H, 40 * H),
}


def policy_fields(targets=TARGETS) -> dict:
    return {
        f"{priority}_{kind}": value
        for priority, (first, resolution) in targets.items()
        for kind, value in (("first_response", first), ("resolution", resolution))
    }


@contextlib.contextmanager
def clock_at(instant: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=instant):
        yield


@pytest.fixture
def always_open():
    """A 24/7 UTC calendar (midnight to midnight every day) and a default policy on it."""
    calendar = sla_services.calendar_create(
        name="Always", time_zone="UTC", is_default=True,
        hours={day: [(time(0), time(0))] for day in range(7)},
    )  # fmt: skip
    return sla_services.policy_save(
        policy=SlaPolicy(name="Standard", calendar=calendar, **policy_fields())
    )
