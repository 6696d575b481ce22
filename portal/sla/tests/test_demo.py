"""Demo data: a default UK calendar with bank holidays, a default policy, one override."""

from datetime import UTC, date, datetime, timedelta

from portal.catalog.models import BusinessUnitGroup
from portal.sla import demo
from portal.sla.business_time import add_business_time
from portal.sla.models import BusinessCalendar, Holiday, SlaPolicy
from portal.sla.selectors import policy_for


def test_demo_data_loads_twice_without_duplicates(db):
    it = BusinessUnitGroup.objects.create(name="Information Technology", code="IT")
    first = demo.load({})
    second = demo.load({})
    assert first == second == {"business calendars": 1, "SLA policies": 2}
    calendar = BusinessCalendar.objects.get()
    assert (calendar.name, calendar.time_zone, calendar.is_default) == (
        "UK office",
        "Europe/London",
        True,
    )
    assert Holiday.objects.count() == 16
    assert SlaPolicy.objects.get(group=it).name == "Faster for Information Technology"


def test_demo_policy_gives_real_due_times(db):
    demo.load({})
    resolved = policy_for(None, None, "high")
    assert (resolved.first_response, resolved.resolution) == (
        timedelta(hours=4),
        timedelta(hours=8, minutes=30),
    )
    # Raised on Christmas Eve 2027 (Friday) at 16:00 GMT: 1.5 h that day, then the
    # weekend and the two substitute bank holidays; 2.5 h more on Wednesday 29 December.
    raised = datetime(2027, 12, 24, 16, 0, tzinfo=UTC)
    assert add_business_time(resolved.calendar, raised, resolved.first_response) == datetime(
        2027, 12, 29, 11, 30, tzinfo=UTC
    )
    assert date(2027, 12, 28) in resolved.calendar.holidays


def test_demo_data_without_groups_still_has_a_default_policy(db):
    assert demo.load({}) == {"business calendars": 1, "SLA policies": 1}
