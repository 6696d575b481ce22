"""Calendar, holiday and policy writes."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError

from portal.sla import services
from portal.sla.hours import format_day, parse_day
from portal.sla.models import BusinessCalendar, Holiday, WorkingHours

pytestmark = pytest.mark.smoke

GOOD_LIST = """\
# England
2027-01-01 New Year's Day

2027-03-26   Good   Friday
"""


def test_importing_a_clean_list_adds_every_holiday(office):
    result = services.holidays_import(calendar=office, text=GOOD_LIST)
    assert (result.created, result.renamed, result.unchanged) == (2, 0, 0)
    assert dict(office.holidays.values_list("date", "name")) == {
        date(2026, 12, 25): "Christmas Day",
        date(2027, 1, 1): "New Year's Day",
        date(2027, 3, 26): "Good Friday",
    }


def test_importing_the_same_list_twice_changes_nothing_and_renames_on_request(office):
    services.holidays_import(calendar=office, text=GOOD_LIST)
    again = services.holidays_import(calendar=office, text=GOOD_LIST)
    assert (again.created, again.renamed, again.unchanged) == (0, 0, 2)
    renamed = services.holidays_import(calendar=office, text="2026-12-25 Xmas")
    assert (renamed.created, renamed.renamed) == (0, 1)
    assert office.holidays.get(date=date(2026, 12, 25)).name == "Xmas"


def test_one_bad_line_means_nothing_is_written_and_every_bad_line_is_named(office):
    text = "\n".join(
        [
            "2027-01-01 New Year's Day",
            "2027-02-30 Not a day",
            "2027-05-03",
            "03/05/2027 Early May",
            "2027-01-01 Again",
            "2027-12-27 " + "x" * 121,
        ]
    )
    with pytest.raises(ValidationError) as refused:
        services.holidays_import(calendar=office, text=text)
    assert refused.value.message_dict["text"] == [
        "Line 2: “2027-02-30” is not a date (YYYY-MM-DD).",
        "Line 3: a name is needed after the date.",
        "Line 4: “03/05/2027” is not a date (YYYY-MM-DD).",
        "Line 5: 2027-01-01 is already on line 1.",
        "Line 6: the name is longer than 120 characters.",
    ]
    assert list(office.holidays.values_list("date", flat=True)) == [date(2026, 12, 25)]


def test_an_empty_list_is_an_error():
    from portal.sla.holiday_import import parse_holiday_lines

    assert parse_holiday_lines("# nothing\n\n").errors == ["The list has no holidays in it."]


def test_making_a_calendar_default_clears_the_previous_default(office):
    other = services.calendar_create(
        name="New York office",
        time_zone="America/New_York",
        is_default=True,
        hours={0: [(time(9), time(17))]},
    )
    office.refresh_from_db()
    assert (office.is_default, other.is_default) == (False, True)
    assert BusinessCalendar.objects.filter(is_default=True).count() == 1


def test_updating_a_calendar_replaces_its_working_hours(office):
    services.calendar_update(
        calendar=office,
        name="London office",
        time_zone="Europe/London",
        is_default=True,
        hours={0: [(time(8), time(12)), (time(13), time(16))], 5: [(time(10), time(14))]},
    )
    rows = list(WorkingHours.objects.filter(calendar=office).values_list("weekday", "start"))
    assert rows == [(0, time(8)), (0, time(13)), (5, time(10))]


def test_a_calendar_without_working_hours_or_with_a_bad_zone_is_refused(db):
    with pytest.raises(ValidationError, match="at least one working interval"):
        services.calendar_create(name="Closed", time_zone="UTC", hours={})
    with pytest.raises(ValidationError, match="not a known IANA time zone"):
        services.calendar_create(name="Nowhere", time_zone="Mars/Olympus", hours={0: []})
    assert not BusinessCalendar.objects.exists()


def test_a_duplicate_holiday_date_is_refused_with_a_message(office):
    with pytest.raises(ValidationError, match="already has a holiday on that date"):
        services.holiday_add(calendar=office, date=date(2026, 12, 25), name="Again")
    assert Holiday.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("09:00-17:30", [(time(9), time(17, 30))]),
        ("13:30-17:30, 9:00-12:30", [(time(9), time(12, 30)), (time(13, 30), time(17, 30))]),
        ("22:00-24:00", [(time(22), time(0))]),
        ("", []),
    ],
)
def test_working_hours_are_written_as_people_write_them(text, intervals):
    assert parse_day(text) == intervals
    assert parse_day(format_day(intervals)) == intervals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22:00-06:00", "cannot cross midnight"),
        ("9-5", "not an interval"),
        ("09:00-12:00, 11:00-13:00", "overlap"),
        ("25:00-26:00", "not a time of day"),
    ],
)
def test_bad_working_hours_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_day(text)


@pytest.fixture
def announcements():
    from portal.sla.signals import sla_definitions_changed

    received = []

    def receiver(sender, calendar_ids, policy_ids, **kwargs):
        received.append((calendar_ids, policy_ids))

    sla_definitions_changed.connect(receiver)
    yield received
    sla_definitions_changed.disconnect(receiver)


def test_changes_that_move_due_times_are_announced_after_commit(
    office, default_policy, announcements, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        holiday = services.holiday_add(calendar=office, date=date(2027, 1, 1), name="NY")
        services.holiday_delete(holiday=holiday)
        services.holidays_import(calendar=office, text="2027-03-26 Good Friday")
        services.holidays_import(calendar=office, text="2027-03-26 Renamed")  # no effect
        services.policy_save(policy=default_policy)
    assert announcements == [
        (frozenset({office.pk}), frozenset()),
        (frozenset({office.pk}), frozenset()),
        (frozenset({office.pk}), frozenset()),
        (frozenset(), frozenset({default_policy.pk})),
    ]


def test_a_rejected_change_announces_nothing(
    office, announcements, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValidationError):
            services.holidays_import(calendar=office, text="not a date")
    assert callbacks == [] and announcements == []
