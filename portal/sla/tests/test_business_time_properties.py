"""Properties of business-time arithmetic that must hold for every calendar and instant.

Calendars are random (0-3 quarter-hour intervals per weekday, holidays near the start) in
zones with northern and southern DST, half- and 45-minute offsets, midnight clock changes
and a skipped day; instants cluster around the zones' clock changes.
"""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from portal.sla.business_time import (
    Calendar,
    add_business_time,
    business_time_between,
    day_pieces,
    due_at,
    elapsed_business_time,
    is_working_time,
)
from portal.sla.tests.strategies import durations, scenarios

US = timedelta(microseconds=1)


def reference_is_working(calendar: Calendar, instant: datetime) -> bool:
    """The definition itself, straight from the wall clock: no pieces, no offsets."""
    wall = instant.astimezone(calendar.zone)
    if wall.date() in calendar.holidays:
        return False
    us = ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1_000_000 + wall.microsecond
    return any(start <= us < end for start, end in calendar.week[wall.weekday()])


def day_by_day_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Business time summed over every day's pieces, without the whole-week shortcut."""
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date() - timedelta(days=2)
    while day <= end.astimezone(calendar.zone).date() + timedelta(days=2):
        for a, b in day_pieces(calendar, day):
            total += max(timedelta(0), min(b, end) - max(a, start))
        day += timedelta(days=1)
    return total


@given(scenarios(), st.integers(-3 * 86400, 3 * 86400))
def test_working_time_matches_the_wall_clock_definition(scenario, shift):
    calendar, start = scenario
    instant = start + timedelta(seconds=shift)
    assert is_working_time(calendar, instant) == reference_is_working(calendar, instant)


@given(scenarios(), st.integers(0, 2 * 86400 // 60))
def test_measuring_agrees_with_counting_minutes_on_the_wall_clock(scenario, minutes):
    calendar, start = scenario
    # Interval bounds are quarter hours and clock changes happen on whole minutes, so
    # sampling each minute from a minute-aligned start counts working time exactly.
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    expected = sum(
        reference_is_working(calendar, start + timedelta(minutes=i)) for i in range(minutes)
    )
    assert business_time_between(calendar, start, end) == timedelta(minutes=expected)


@given(scenarios(), durations)
def test_measuring_what_was_added_gives_it_back(scenario, duration):
    calendar, start = scenario
    due = add_business_time(calendar, start, duration)
    assert business_time_between(calendar, start, due) == duration


@given(scenarios(), durations)
def test_round_trip_from_inside_working_time(scenario, duration):
    calendar, start = scenario
    # Move the start into working time: the first working instant after it.
    start = add_business_time(calendar, start, US) - US
    assert is_working_time(calendar, start)
    assert business_time_between(calendar, start, add_business_time(calendar, start, duration)) == (
        duration
    )


@given(scenarios(), durations.filter(bool))
def test_a_due_time_is_the_end_of_worked_time_and_the_earliest_one(scenario, duration):
    calendar, start = scenario
    due = add_business_time(calendar, start, duration)
    assert due > start
    assert is_working_time(calendar, due - US)  # inside working time, or its closing instant
    assert business_time_between(calendar, start, due - US) < duration


@given(scenarios())
def test_adding_zero_returns_the_start(scenario):
    calendar, start = scenario
    assert add_business_time(calendar, start, timedelta(0)) == start


@given(scenarios(), durations, durations)
def test_adding_more_never_ends_earlier_and_adding_composes(scenario, first, second):
    calendar, start = scenario
    one = add_business_time(calendar, start, first)
    both = add_business_time(calendar, start, first + second)
    assert one <= both
    if second:
        assert add_business_time(calendar, one, second) == both


@given(scenarios(), durations, st.integers(0, 30 * 86400 * 10**6))
def test_starting_later_never_makes_the_due_time_earlier(scenario, duration, delay_us):
    calendar, start = scenario
    later = start + timedelta(microseconds=delay_us)
    assert add_business_time(calendar, start, duration) <= add_business_time(
        calendar, later, duration
    )


@given(scenarios(), st.integers(0, 90 * 86400), st.integers(0, 90 * 86400))
def test_measuring_is_monotonic_additive_and_never_more_than_the_clock(scenario, a, b):
    calendar, start = scenario
    middle = start + timedelta(seconds=min(a, b))
    end = start + timedelta(seconds=max(a, b))
    first = business_time_between(calendar, start, middle)
    second = business_time_between(calendar, middle, end)
    whole = business_time_between(calendar, start, end)
    assert first + second == whole
    assert timedelta(0) <= first <= whole <= end - start
    assert business_time_between(calendar, end, start) == timedelta(0)


@given(scenarios(), st.integers(0, 120 * 86400))
def test_the_whole_week_shortcut_agrees_with_summing_days(scenario, seconds):
    calendar, start = scenario
    end = start + timedelta(seconds=seconds)
    assert business_time_between(calendar, start, end) == day_by_day_between(calendar, start, end)


@st.composite
def pauses_within(draw, start: datetime, span: int):
    offsets = st.integers(-86400, span + 86400)
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        a, b = sorted(draw(st.tuples(offsets, offsets)))
        resumed = None if draw(st.booleans()) and not pauses else start + timedelta(seconds=b)
        pauses.append((start + timedelta(seconds=a), resumed))
    return pauses


@given(scenarios(), st.integers(0, 20 * 86400), st.data())
def test_pauses_never_count_and_never_take_elapsed_time_below_zero(scenario, span, data):
    calendar, start = scenario
    end = start + timedelta(seconds=span)
    pauses = data.draw(pauses_within(start, span))
    unpaused = business_time_between(calendar, start, end)
    elapsed = elapsed_business_time(calendar, start, end, pauses)
    assert timedelta(0) <= elapsed <= unpaused
    # The same pauses twice, or in another order, change nothing: they are merged.
    assert elapsed_business_time(calendar, start, end, pauses + pauses[::-1]) == elapsed
    # One more pause can only stop the clock for longer.
    extra = data.draw(pauses_within(start, span))
    closed_extra = [(p, r) for p, r in extra if r is not None]
    assert elapsed_business_time(calendar, start, end, pauses + closed_extra) <= elapsed


@given(scenarios(), st.integers(0, 20 * 86400), st.integers(0, 20 * 86400))
def test_paused_time_is_exactly_the_working_time_inside_the_pause(scenario, x, y):
    calendar, start = scenario
    paused_at = start + timedelta(seconds=min(x, y))
    resumed_at = start + timedelta(seconds=max(x, y))
    end = resumed_at + timedelta(days=1)
    elapsed = elapsed_business_time(calendar, start, end, [(paused_at, resumed_at)])
    assert elapsed == business_time_between(calendar, start, end) - business_time_between(
        calendar, paused_at, resumed_at
    )


OTHER_ZONES = [
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("Asia/Tokyo"),
    timezone(timedelta(hours=-3, minutes=-30)),
    UTC,
]


@given(scenarios(), durations, st.sampled_from(OTHER_ZONES))
def test_the_same_instant_written_in_another_zone_gives_the_same_results(scenario, duration, other):
    calendar, start = scenario
    elsewhere = start.astimezone(other)
    due = add_business_time(calendar, start, duration)
    due_elsewhere = add_business_time(calendar, elsewhere, duration)
    assert due == due_elsewhere
    assert due_elsewhere.tzinfo is UTC  # never an ambiguous local reading (PEP 495)
    later = start + duration * 3
    assert business_time_between(calendar, start, later) == business_time_between(
        calendar, elsewhere, later.astimezone(other)
    )


@given(scenarios(zones=["UTC"]), durations)
def test_a_calendar_in_a_fixed_offset_zone_equals_the_shifted_utc_calendar(scenario, duration):
    """Asia/Kolkata is UTC+05:30 all year: the same hours shifted by 5 h 30 min agree."""
    utc_calendar, start = scenario
    utc_calendar = Calendar(utc_calendar.zone, utc_calendar.week)  # holidays are per date
    shift = timedelta(hours=5, minutes=30)
    # The week as Kolkata wall time: every interval 5 h 30 min later, and the part that
    # passes midnight moved to the next weekday.
    hours: dict[int, list] = {day: [] for day in range(7)}
    for weekday, intervals in enumerate(utc_calendar.week):
        for s, e in intervals:
            for lo, hi, day_shift in _shifted(s, e, shift):
                hours[(weekday + day_shift) % 7].append((lo, hi))
    kolkata = Calendar(ZoneInfo("Asia/Kolkata"), _as_intervals_calendar(hours))
    assert add_business_time(kolkata, start, duration) == add_business_time(
        utc_calendar, start, duration
    )
    later = start + duration
    assert business_time_between(kolkata, start, later) == business_time_between(
        utc_calendar, start, later
    )


def _shifted(start_us: int, end_us: int, shift: timedelta):
    day = 86400 * 10**6
    s = start_us + shift // US
    e = end_us + shift // US
    if e <= day:
        yield s, e, 0
    elif s >= day:
        yield s - day, e - day, 1
    else:
        yield s, day, 0
        yield 0, e - day, 1


def _as_intervals_calendar(hours: dict[int, list]) -> tuple:
    week = []
    for day in range(7):
        merged: list[tuple[int, int]] = []
        for s, e in sorted(hours[day]):
            if merged and s == merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        week.append(tuple(merged))
    return tuple(week)


@given(scenarios(), durations, st.integers(0, 10 * 86400), st.data())
def test_due_time_is_when_unpaused_working_time_reaches_the_target(scenario, target, span, data):
    calendar, start = scenario
    pauses = [(p, r) for p, r in data.draw(pauses_within(start, span)) if r is not None]
    due = due_at(calendar, start, target, pauses)
    assert due is not None
    assert elapsed_business_time(calendar, start, due, pauses) == target
    if target:
        assert elapsed_business_time(calendar, start, due - US, pauses) < target


@given(scenarios(), durations, st.integers(0, 10 * 86400))
def test_no_due_time_while_paused_unless_the_target_was_already_reached(scenario, target, at):
    calendar, start = scenario
    paused_at = start + timedelta(seconds=at)
    due = due_at(calendar, start, target, [(paused_at, None)])
    reached_before_pause = business_time_between(calendar, start, paused_at) >= target
    assert (due is not None) == reached_before_pause
    if due is not None:
        assert due == add_business_time(calendar, start, target)
