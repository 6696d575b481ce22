"""Worked examples: the cases people ask about, with the answers written out by hand."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.sla import business_time
from portal.sla.business_time import (
    Calendar,
    CalendarError,
    add_business_time,
    business_time_between,
    due_at,
    elapsed_business_time,
    is_working_time,
)

pytestmark = pytest.mark.smoke

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")
H = timedelta(hours=1)
ALL_DAY = [(time(0), time(0))]  # 00:00 to 24:00


def weekday_calendar(zone: str = "Europe/London", holidays=()) -> Calendar:
    """Monday to Friday, 09:00-17:30."""
    return Calendar.build(zone, {d: [(time(9), time(17, 30))] for d in range(5)}, holidays)


def always(zone: str) -> Calendar:
    return Calendar.build(zone, {d: ALL_DAY for d in range(7)})


def at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


# --- Weekends, holidays, closing time ---------------------------------------------------------


def test_time_left_on_friday_carries_over_the_weekend():
    friday = at(LONDON, 2026, 11, 20, 17, 0)
    assert add_business_time(weekday_calendar(), friday, H) == at(LONDON, 2026, 11, 23, 9, 30)


def test_a_target_met_exactly_at_closing_time_is_due_at_closing_time():
    monday = at(LONDON, 2026, 11, 23, 9, 0)
    due = add_business_time(weekday_calendar(), monday, timedelta(hours=8, minutes=30))
    assert due == at(LONDON, 2026, 11, 23, 17, 30)
    assert not is_working_time(weekday_calendar(), due)
    assert is_working_time(weekday_calendar(), at(LONDON, 2026, 11, 23, 9, 0))


def test_a_ticket_raised_on_saturday_starts_counting_on_monday_morning():
    saturday = at(LONDON, 2026, 11, 21, 11, 0)
    assert add_business_time(weekday_calendar(), saturday, 4 * H) == at(LONDON, 2026, 11, 23, 13, 0)
    assert business_time_between(weekday_calendar(), saturday, at(LONDON, 2026, 11, 23, 9, 0)) == (
        timedelta(0)
    )


def test_holidays_are_skipped_like_weekends():
    christmas = weekday_calendar(holidays={date(2026, 12, 25), date(2026, 12, 28)})
    thursday_late = at(LONDON, 2026, 12, 24, 17, 0)
    # 30 min on Thursday, Friday 25th and Monday 28th are holidays, then Tuesday 09:30.
    assert add_business_time(christmas, thursday_late, H) == at(LONDON, 2026, 12, 29, 9, 30)
    assert business_time_between(christmas, thursday_late, at(LONDON, 2026, 12, 29, 9, 30)) == H


def test_several_intervals_a_day_leave_lunch_out():
    with_lunch = Calendar.build(
        "Europe/London", {0: [(time(9), time(12, 30)), (time(13, 30), time(17, 30))]}
    )
    monday = at(LONDON, 2026, 11, 23, 12, 0)
    assert add_business_time(with_lunch, monday, H) == at(LONDON, 2026, 11, 23, 14, 0)


# --- Midnight -------------------------------------------------------------------------------


def night_shift(holidays=()) -> Calendar:
    """22:00-06:00 from Monday night to Tuesday morning, written as two days."""
    return Calendar.build(
        "Europe/London", {0: [(time(22), time(0))], 1: [(time(0), time(6))]}, holidays
    )


def test_a_night_shift_is_two_intervals_that_join_at_midnight():
    monday_night = at(LONDON, 2026, 11, 23, 23, 0)
    assert add_business_time(night_shift(), monday_night, 3 * H) == at(LONDON, 2026, 11, 24, 2, 0)
    assert (
        business_time_between(night_shift(), monday_night, at(LONDON, 2026, 11, 24, 6, 0)) == 7 * H
    )


def test_each_half_of_a_night_shift_follows_its_own_dates_holiday():
    shift = night_shift(holidays={date(2026, 11, 24)})  # the Tuesday
    monday_night = at(LONDON, 2026, 11, 23, 23, 0)
    # 1 h before midnight; Tuesday's morning half is a holiday; next Monday 22:00-24:00.
    due = add_business_time(shift, monday_night, 3 * H)
    assert due == at(LONDON, 2026, 12, 1, 0, 0)


def test_an_interval_crossing_midnight_is_refused_with_advice():
    with pytest.raises(CalendarError, match="split a shift that crosses midnight"):
        Calendar.build("Europe/London", {0: [(time(22), time(6))]})


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({0: [(time(9), time(12)), (time(11), time(17))]}, "overlap"),
        ({0: [(time(9), time(9))]}, "must end after it starts"),
        ({}, "at least one working interval"),
    ],
)
def test_unusable_working_hours_are_refused(hours, message):
    with pytest.raises(CalendarError, match=message):
        Calendar.build("Europe/London", hours)


def test_touching_intervals_are_merged():
    calendar = Calendar.build("UTC", {0: [(time(12), time(17)), (time(9), time(12))]})
    assert calendar.week[0] == ((9 * 3600 * 10**6, 17 * 3600 * 10**6),)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(CalendarError, match="not a known IANA time zone"):
        Calendar.build("Europe/Atlantis", {0: ALL_DAY})


def test_naive_datetimes_and_negative_durations_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(weekday_calendar(), datetime(2026, 11, 23, 9, 0), H)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_business_time(weekday_calendar(), at(LONDON, 2026, 11, 23, 9, 0), -H)


# --- Clock changes --------------------------------------------------------------------------


def test_london_office_hours_are_wall_clock_hours_across_the_spring_change():
    # Clocks go forward on Sunday 29 March 2026 at 01:00 GMT.
    friday = at(LONDON, 2026, 3, 27, 16, 0)
    due = add_business_time(weekday_calendar(), friday, 2 * H)
    assert due == at(LONDON, 2026, 3, 30, 9, 30)
    assert due == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # BST is UTC+1
    assert business_time_between(weekday_calendar(), friday, due) == 2 * H


def test_london_round_the_clock_day_is_23_hours_in_spring_and_25_in_autumn():
    calendar = always("Europe/London")
    assert (
        business_time_between(
            calendar, at(LONDON, 2026, 3, 29, 0, 0), at(LONDON, 2026, 3, 30, 0, 0)
        )
        == 23 * H
    )
    assert (
        business_time_between(
            calendar, at(LONDON, 2026, 10, 25, 0, 0), at(LONDON, 2026, 10, 26, 0, 0)
        )
        == 25 * H
    )


def test_the_skipped_hour_is_never_worked_and_the_repeated_hour_is_worked_twice():
    one_to_two = Calendar.build("Europe/London", {6: [(time(1), time(2))]})
    spring_sunday, autumn_sunday = date(2026, 3, 29), date(2026, 10, 25)
    assert business_time_between(
        one_to_two,
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 3, 30, tzinfo=UTC),
    ) == timedelta(0)
    assert (
        business_time_between(
            one_to_two,
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            datetime(2026, 10, 26, tzinfo=UTC),
        )
        == 2 * H
    )
    # 00:00 to 04:00 on those nights: 3 h and 5 h.
    small_hours = Calendar.build("Europe/London", {6: [(time(0), time(4))]})
    for day, hours in ((spring_sunday, 3), (autumn_sunday, 5)):
        start = at(LONDON, day.year, day.month, day.day, 0, 0)
        assert business_time_between(small_hours, start, start + timedelta(days=1)) == hours * H


def test_new_york_spring_forward_skips_2am():
    calendar = always("America/New_York")
    # Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT.
    assert add_business_time(calendar, at(NEW_YORK, 2026, 3, 8, 1, 30), 2 * H) == at(
        NEW_YORK, 2026, 3, 8, 4, 30
    )


def test_new_york_fall_back_ends_in_the_second_one_am():
    calendar = always("America/New_York")
    # Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST; 01:30 happens twice.
    due = add_business_time(calendar, at(NEW_YORK, 2026, 11, 1, 0, 30), 2 * H)
    assert due == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the second one
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 1, 1, 30)  # noqa: DTZ001


def test_new_york_office_day_is_unchanged_by_the_night_change():
    ny = weekday_calendar("America/New_York")
    monday_after = at(NEW_YORK, 2026, 3, 9, 9, 0)
    assert add_business_time(ny, monday_after, timedelta(hours=8, minutes=30)) == at(
        NEW_YORK, 2026, 3, 9, 17, 30
    )


def test_kolkata_has_no_clock_changes_and_a_half_hour_offset():
    kolkata = Calendar.build("Asia/Kolkata", {d: [(time(9, 30), time(18))] for d in range(5)})
    monday = at(KOLKATA, 2026, 3, 9, 9, 30)
    assert monday == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert add_business_time(kolkata, monday, timedelta(hours=8, minutes=30)) == datetime(
        2026, 3, 9, 12, 30, tzinfo=UTC
    )
    # The same week of Europe's spring change is an ordinary week in India.
    week = business_time_between(
        kolkata, at(KOLKATA, 2026, 3, 23, 0, 0), at(KOLKATA, 2026, 3, 30, 0, 0)
    )
    assert week == 5 * timedelta(hours=8, minutes=30)


def test_sydney_clocks_go_back_in_april_and_forward_in_october():
    small_hours = Calendar.build("Australia/Sydney", {6: [(time(0), time(6))]})
    # Sunday 5 April 2026, 03:00 AEDT becomes 02:00 AEST: seven hours.
    april = at(SYDNEY, 2026, 4, 5, 0, 0)
    assert business_time_between(small_hours, april, april + timedelta(days=1)) == 7 * H
    # Sunday 4 October 2026, 02:00 AEST becomes 03:00 AEDT: five hours.
    october = at(SYDNEY, 2026, 10, 4, 0, 0)
    assert business_time_between(small_hours, october, october + timedelta(days=1)) == 5 * H


def test_calendars_in_different_zones_measure_the_same_instants_differently():
    london, sydney = weekday_calendar("Europe/London"), weekday_calendar("Australia/Sydney")
    monday_noon_utc = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    # 12:00 in London is within hours; in Sydney it is 23:00, so Sydney starts Tuesday 09:00.
    assert add_business_time(london, monday_noon_utc, H) == datetime(
        2026, 11, 23, 13, 0, tzinfo=UTC
    )
    assert add_business_time(sydney, monday_noon_utc, H) == at(SYDNEY, 2026, 11, 24, 10, 0)


def test_samoas_skipped_day_has_no_working_time():
    calendar = always("Pacific/Apia")
    apia = ZoneInfo("Pacific/Apia")
    # Samoa moved across the date line: 29 December 2011 was followed by 31 December.
    assert (
        business_time_between(calendar, at(apia, 2011, 12, 29, 0, 0), at(apia, 2011, 12, 31, 0, 0))
        == 24 * H
    )


# --- Pauses and due times -------------------------------------------------------------------


def test_on_hold_time_does_not_count_and_the_due_time_moves_by_it():
    monday = at(LONDON, 2026, 11, 23, 9, 0)
    on_hold = [(at(LONDON, 2026, 11, 23, 10, 0), at(LONDON, 2026, 11, 24, 10, 0))]
    assert elapsed_business_time(
        weekday_calendar(), monday, at(LONDON, 2026, 11, 24, 11, 0), on_hold
    ) == (2 * H)
    assert due_at(weekday_calendar(), monday, 4 * H, on_hold) == at(LONDON, 2026, 11, 24, 13, 0)


def test_while_on_hold_there_is_no_due_time():
    monday = at(LONDON, 2026, 11, 23, 9, 0)
    assert (
        due_at(weekday_calendar(), monday, 4 * H, [(at(LONDON, 2026, 11, 23, 10, 0), None)]) is None
    )


def test_a_pause_cannot_end_before_it_starts():
    monday = at(LONDON, 2026, 11, 23, 9, 0)
    with pytest.raises(ValueError, match="resume before it started"):
        elapsed_business_time(weekday_calendar(), monday, monday + 8 * H, [(monday + H, monday)])


def test_overlapping_pauses_are_not_subtracted_twice():
    monday = at(LONDON, 2026, 11, 23, 9, 0)
    pauses = [(monday + H, monday + 3 * H), (monday + 2 * H, monday + 4 * H)]
    assert elapsed_business_time(weekday_calendar(), monday, monday + 8 * H, pauses) == 5 * H


# --- Cost -----------------------------------------------------------------------------------


def test_adding_a_thousand_business_hours_skips_whole_weeks(monkeypatch):
    calls = []
    real_day_pieces = business_time.day_pieces

    def counting(calendar, day):
        calls.append(day)
        return real_day_pieces(calendar, day)

    monkeypatch.setattr(business_time, "day_pieces", counting)
    start = at(LONDON, 2026, 1, 5, 9, 0)
    due = add_business_time(weekday_calendar(holidays={date(2026, 4, 3)}), start, 1000 * H)
    # 23 weeks of 42.5 h less Good Friday's 8.5 h is 969 h; the other 31 h are Monday to
    # Wednesday of the 24th week (25.5 h) and 5.5 h on Thursday 18 June: 14:30 BST.
    assert due == at(LONDON, 2026, 6, 18, 14, 30)
    # Days are looked at one by one only around clock changes and at the two ends.
    assert len(calls) < 40


def test_a_calendar_that_never_works_again_gives_up_instead_of_looping():
    mondays_only = Calendar.build(
        "UTC",
        {0: [(time(9), time(17))]},
        holidays={date(2026, 11, 23) + timedelta(weeks=n) for n in range(31 * 53)},
    )
    with pytest.raises(CalendarError, match="within 30 years"):
        add_business_time(mondays_only, at(UTC, 2026, 11, 22, 12, 0), H)
