"""Hypothesis strategies for calendars and instants, biased towards clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from portal.sla.business_time import Calendar

# Northern and southern DST, a half-hour zone without DST, a 45-minute offset, a zone that
# changed at midnight, and Samoa, which skipped 30 December 2011 entirely.
ZONES = [
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Chatham",
    "America/Santiago",
    "Pacific/Apia",
    "UTC",
]
LOW = datetime(2010, 1, 1, tzinfo=UTC)
HIGH = datetime(2032, 1, 1, tzinfo=UTC)


@cache
def transitions(zone_key: str) -> tuple[datetime, ...]:
    """UTC instants (to the hour) where the zone's offset changes, 2010-2031."""
    zone = ZoneInfo(zone_key)
    found = []
    day = LOW
    previous = day.astimezone(zone).utcoffset()
    while day < HIGH:
        day += timedelta(days=1)
        offset = day.astimezone(zone).utcoffset()
        if offset != previous:
            # Narrow down to the hour inside the day (for the bias, not for exactness).
            t = day - timedelta(days=1)
            while t.astimezone(zone).utcoffset() == previous:
                t += timedelta(hours=1)
            found.append(t)
            previous = offset
    return tuple(found)


@st.composite
def day_intervals(draw) -> list[tuple[time, time]]:
    """0-3 sorted, non-overlapping quarter-hour intervals; an end of 00:00 is midnight."""
    cuts = draw(st.lists(st.integers(0, 96), min_size=0, max_size=6, unique=True).map(sorted))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    intervals = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        as_time = lambda q: time((q * 15 // 60) % 24, q * 15 % 60)  # noqa: E731
        intervals.append((as_time(start), as_time(end)))
    return intervals


def instants(zone_key: str):
    """Aware UTC instants, half of them within a day and a half of a clock change."""
    anywhere = st.datetimes(LOW.replace(tzinfo=None), HIGH.replace(tzinfo=None)).map(
        lambda value: value.replace(tzinfo=UTC)
    )
    changes = transitions(zone_key)
    if not changes:
        return anywhere
    near_change = st.tuples(
        st.sampled_from(changes), st.integers(-36 * 3600 * 10**6, 36 * 3600 * 10**6)
    ).map(lambda pair: pair[0] + timedelta(microseconds=pair[1]))
    return st.one_of(anywhere, near_change)


@st.composite
def scenarios(draw, zones=ZONES) -> tuple[Calendar, datetime]:
    """A calendar and an instant near which it has holidays (so they actually matter)."""
    zone = draw(st.sampled_from(zones))
    start = draw(instants(zone))
    return draw(calendars_near(zone, start.date())), start


@st.composite
def calendars_near(draw, zone: str, around: date) -> Calendar:
    week = {day: draw(day_intervals()) for day in range(7)}
    if not any(week.values()):
        week[draw(st.integers(0, 6))] = [(time(9), time(17))]
    holidays = draw(
        st.sets(st.integers(-10, 60).map(lambda days: around + timedelta(days=days)), max_size=12)
    )
    return Calendar.build(zone, week, holidays)


durations = st.one_of(
    st.integers(0, 200 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 10**12).map(lambda us: timedelta(microseconds=us)),
)
