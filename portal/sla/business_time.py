"""Business-time arithmetic: pure functions over a calendar value object, no ORM.

The one rule everything follows (docs/sla.md has the long version):

    An instant is *working time* when the calendar's local wall clock at that instant
    shows a date that is not a holiday and a time inside one of that weekday's intervals.

Business time is real elapsed time (what a stopwatch measures) restricted to working
instants. Consequences, all deliberate:

- Working hours are local wall-clock times, so 09:00-17:30 stays 09:00-17:30 on both sides
  of a DST change, and a working day still lasts 8 h 30 min unless the change itself falls
  inside working hours.
- A wall time that does not exist (the hour skipped when clocks go forward) never happens,
  so it is never worked: 01:00-03:00 on the spring-forward night in London is one hour.
- A wall time that happens twice (the hour repeated when clocks go back) is worked both
  times: 01:00-03:00 on the autumn night in London is three hours.
- Intervals never cross midnight. A night shift 22:00-06:00 is two intervals:
  22:00-24:00 on one day and 00:00-06:00 on the next (write 24:00 as an end of 00:00).
  Each piece follows its own date's holiday status.

Instants are aware datetimes; naive ones are refused (a naive datetime has no single
meaning). Results are in UTC, like everything Django stores: an instant written in a zone
where it is ambiguous compares unequal to the same instant in another zone (PEP 495), so
handing back the caller's zone would be a trap.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_US = 86_400_000_000
ONE_DAY = timedelta(days=1)
ONE_WEEK = timedelta(days=7)
# How far `add_business_time` looks before giving up on a calendar with (almost) no
# working time, e.g. every date for the next decades listed as a holiday.
MAX_SEARCH = timedelta(days=366 * 30)
# Dates to look at on either side of a span: a DST change can move a local date's
# working pieces up to a day away from where the naive date suggests.
MARGIN = timedelta(days=2)

Interval = tuple[int, int]  # microseconds since local midnight, start < end <= 24 h
Piece = tuple[datetime, datetime]  # [start, end) in UTC


class CalendarError(ValueError):
    """A calendar definition that cannot be used (bad zone, overlapping hours...)."""


def time_to_us(value: time, *, is_end: bool = False) -> int:
    """Microseconds since midnight; an end of 00:00 means 24:00 (the end of the day)."""
    us = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return DAY_US if is_end and us == 0 else us


@lru_cache(maxsize=256)
def load_zone(key: str) -> ZoneInfo:
    """The IANA zone `key`, or CalendarError with a message fit for a form."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CalendarError(f"“{key}” is not a known IANA time zone (e.g. Europe/London).") from exc


@dataclass(frozen=True, slots=True)
class Calendar:
    """When work happens: a time zone, intervals per weekday, and holidays.

    `week[0]` is Monday (date.weekday()). Build one with `Calendar.build(...)`, which
    validates; the constructor trusts its arguments' shape but still checks them.
    """

    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("A calendar needs intervals for exactly 7 weekdays.")
        for day in self.week:
            previous_end = -1
            for start, end in day:
                if not 0 <= start < end <= DAY_US:
                    raise CalendarError("Each interval must start before it ends, within a day.")
                if start < previous_end:
                    raise CalendarError("Intervals on the same day must not overlap.")
                previous_end = end
        if not any(self.week):
            raise CalendarError("A calendar needs at least one working interval in the week.")

    @classmethod
    def build(
        cls,
        time_zone: str | ZoneInfo,
        hours: Mapping[int, Iterable[tuple[time, time]]],
        holidays: Iterable[date] = (),
    ) -> Calendar:
        """A calendar from `{weekday: [(start, end), ...]}` with wall-clock `time`s.

        An end of 00:00 means midnight at the end of the day. Touching intervals
        (09:00-12:00 and 12:00-17:00) are merged; overlapping ones are refused.
        """
        zone = time_zone if isinstance(time_zone, ZoneInfo) else load_zone(time_zone)
        week: list[tuple[Interval, ...]] = []
        for weekday in range(7):
            raw = sorted(
                (time_to_us(start), time_to_us(end, is_end=True))
                for start, end in hours.get(weekday, ())
            )
            merged: list[Interval] = []
            for start, end in raw:
                if start >= end:
                    raise CalendarError(
                        f"{_WEEKDAYS[weekday]}: an interval must end after it starts; "
                        "split a shift that crosses midnight into two days."
                    )
                if merged and start < merged[-1][1]:
                    raise CalendarError(f"{_WEEKDAYS[weekday]}: working intervals overlap.")
                if merged and start == merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
                else:
                    merged.append((start, end))
            week.append(tuple(merged))
        return cls(zone=zone, week=tuple(week), holidays=frozenset(holidays))

    # --- Derived values (cheap, recomputed; the dataclass is frozen and slotted) ---------

    def day_us(self, weekday: int) -> int:
        """Working microseconds on a weekday when no clock change happens that day."""
        return sum(end - start for start, end in self.week[weekday])


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- Time-zone helpers -------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (naive datetimes are ambiguous).")
    return value.astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    """The zone's UTC offset at a UTC instant."""
    return zone.utcoffset(instant.astimezone(zone))  # type: ignore[return-value]


def _utc_candidates(zone: ZoneInfo, wall: datetime) -> tuple[datetime, datetime]:
    """The two readings of a naive wall time (PEP 495 fold 0 and 1) as UTC instants.

    They differ only when `wall` is skipped or repeated by a clock change; between them
    lies the change itself.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return (first, second) if first <= second else (second, first)


def _transition(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first instant in (low, high] whose offset differs from low's (bisection, 1 s).

    Offsets change on whole seconds in the tz database, so the result is exact.
    """
    before = _offset(zone, low)
    lo, hi = int(low.timestamp()), int(high.timestamp()) + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, datetime.fromtimestamp(mid, UTC)) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def _wall_to_utc_pieces(zone: ZoneInfo, wall_start: datetime, wall_end: datetime) -> list[Piece]:
    """The UTC instants whose local wall clock reads within [wall_start, wall_end).

    Contiguous unless the interval holds a clock change: a skipped stretch maps to
    nothing, a repeated one maps twice. Assumes at most one change in the ~day around the
    interval, true of every zone in the tz database.
    """
    low = _utc_candidates(zone, wall_start)[0]
    high = _utc_candidates(zone, wall_end)[1]
    before = _offset(zone, low)
    after = _offset(zone, high)
    if before == after:
        return [
            ((wall_start - before).replace(tzinfo=UTC), (wall_end - before).replace(tzinfo=UTC))
        ]
    change = _transition(zone, low, high)
    pieces: list[Piece] = []
    for seg_start, seg_end, offset in ((low, change, before), (change, high, after)):
        start = max(seg_start, (wall_start - offset).replace(tzinfo=UTC))
        end = min(seg_end, (wall_end - offset).replace(tzinfo=UTC))
        if start < end:
            if pieces and pieces[-1][1] == start:
                pieces[-1] = (pieces[-1][0], end)
            else:
                pieces.append((start, end))
    return pieces


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def day_pieces(calendar: Calendar, day: date) -> list[Piece]:
    """The working time of one local date as sorted UTC pieces (empty on holidays)."""
    if day in calendar.holidays:
        return []
    midnight = _midnight(day)
    pieces: list[Piece] = []
    for start, end in calendar.week[day.weekday()]:
        wall_start = midnight + timedelta(microseconds=start)
        wall_end = midnight + timedelta(microseconds=end)
        pieces.extend(_wall_to_utc_pieces(calendar.zone, wall_start, wall_end))
    return pieces


def _earliest_utc_of(calendar: Calendar, day: date) -> datetime:
    """No instant whose local date is `day` or later comes before this."""
    return _utc_candidates(calendar.zone, _midnight(day))[0]


def _steady_week(calendar: Calendar, monday: date) -> tuple[datetime, datetime] | None:
    """(start, end) in UTC of the local week from `monday` if no clock change is near.

    With one offset throughout (checked a day beyond each end, and clock changes are
    months apart), every interval maps to exactly its wall-clock length, so the week's
    business time is plain arithmetic.
    """
    zone = calendar.zone
    start = _utc_candidates(zone, _midnight(monday))[0]
    end = _utc_candidates(zone, _midnight(monday + ONE_WEEK))[0]
    if _offset(zone, start - ONE_DAY) != _offset(zone, end + ONE_DAY):
        return None
    return start, end


def _week_us(calendar: Calendar, monday: date) -> int:
    """Working microseconds of a steady week, holidays excluded."""
    return sum(
        calendar.day_us(i) for i in range(7) if monday + timedelta(days=i) not in calendar.holidays
    )


def _local_date(calendar: Calendar, instant: datetime) -> date:
    return instant.astimezone(calendar.zone).date()


# --- Public operations ---------------------------------------------------------------------


def is_working_time(calendar: Calendar, instant: datetime) -> bool:
    """Whether `instant` is inside working time (interval starts included, ends excluded)."""
    at = _require_aware(instant, "instant")
    # A date's pieces hold exactly the instants whose wall clock shows that date.
    return any(start <= at < end for start, end in day_pieces(calendar, _local_date(calendar, at)))


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time in [start, end); zero when end is not after start."""
    lo = _require_aware(start, "start")
    hi = _require_aware(end, "end")
    if hi <= lo:
        return timedelta(0)
    total = timedelta(0)
    day = _local_date(calendar, lo) - MARGIN
    last = _local_date(calendar, hi) + MARGIN
    while day <= last:
        if day.weekday() == 0:
            steady = _steady_week(calendar, day)
            if steady and lo <= steady[0] and steady[1] <= hi:
                # A whole week inside the span: count it without looking at its days.
                total += timedelta(microseconds=_week_us(calendar, day))
                day += ONE_WEEK
                continue
        for piece_start, piece_end in day_pieces(calendar, day):
            overlap_start, overlap_end = max(piece_start, lo), min(piece_end, hi)
            if overlap_start < overlap_end:
                total += overlap_end - overlap_start
        day += ONE_DAY
    return total


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of working time has passed since `start`.

    Adding zero returns `start` (in UTC) unchanged, even outside working hours. For a positive
    duration the result is the end of worked time, so it can be a closing time: 8 h 30 min
    from Monday 09:00 on a 09:00-17:30 calendar is Monday 17:30, not Tuesday 09:00.
    Whole steady weeks are skipped arithmetically, so long durations cost one step per
    week rather than per day or minute.
    """
    origin = _require_aware(start, "start")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative.")
    if duration == timedelta(0):
        return origin
    remaining = duration
    day = _local_date(calendar, origin) - MARGIN
    horizon = day + MAX_SEARCH
    pending: list[Piece] = []  # pieces generated but not yet consumed, as a min-heap
    while day <= horizon:
        if not pending and day.weekday() == 0:
            steady = _steady_week(calendar, day)
            if steady and origin <= steady[0]:
                week = timedelta(microseconds=_week_us(calendar, day))
                if week < remaining:
                    remaining -= week
                    day += ONE_WEEK
                    continue
        for piece in day_pieces(calendar, day):
            heapq.heappush(pending, piece)
        # Pieces of later dates cannot start before this bound, so everything before it is
        # in final order (a clock change can push one date's pieces past the next date's).
        bound = _earliest_utc_of(calendar, day + ONE_DAY)
        while pending and pending[0][0] < bound:
            piece_start, piece_end = heapq.heappop(pending)
            piece_start = max(piece_start, origin)
            if piece_start >= piece_end:
                continue
            length = piece_end - piece_start
            if length >= remaining:
                return piece_start + remaining
            remaining -= length
        day += ONE_DAY
    raise CalendarError(f"The calendar has no {duration} of working time within 30 years.")


def merge_pauses(
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]],
) -> list[Piece]:
    """Pauses clipped to [start, end), sorted, overlaps merged; an open pause runs to `end`.

    Merging first is what stops overlapping or repeated pauses from being subtracted twice.
    """
    lo, hi = _require_aware(start, "start"), _require_aware(end, "end")
    spans: list[Piece] = []
    for paused_at, resumed_at in pauses:
        p_start = _require_aware(paused_at, "paused_at")
        # An open pause runs to the end of the span (a pause that starts after it: nothing).
        p_end = max(hi, p_start) if resumed_at is None else _require_aware(resumed_at, "resumed_at")
        if p_end < p_start:
            raise ValueError("A pause cannot resume before it started.")
        p_start, p_end = max(p_start, lo), min(p_end, hi)
        if p_start < p_end:
            spans.append((p_start, p_end))
    spans.sort()
    merged: list[Piece] = []
    for p_start, p_end in spans:
        if merged and p_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], p_end))
        else:
            merged.append((p_start, p_end))
    return merged


def _active_spans(
    start: datetime, end: datetime, pauses: Sequence[Piece]
) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    for p_start, p_end in pauses:
        if cursor < p_start:
            yield cursor, p_start
        cursor = max(cursor, p_end)
    if cursor < end:
        yield cursor, end


def elapsed_business_time(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> timedelta:
    """Working time in [start, end) outside every pause (a `None` resume: still paused).

    Paused time never counts, and because pauses are merged before they are taken out,
    the result is never below zero and never more than the unpaused measure.
    """
    lo, hi = _require_aware(start, "start"), _require_aware(end, "end")
    if hi <= lo:
        return timedelta(0)
    merged = merge_pauses(lo, hi, pauses)
    return sum(
        (business_time_between(calendar, a, b) for a, b in _active_spans(lo, hi, merged)),
        timedelta(0),
    )


def due_at(
    calendar: Calendar,
    start: datetime,
    target: timedelta,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> datetime | None:
    """When `target` of unpaused working time since `start` is reached; None while paused.

    Pauses are known history: each (paused_at, resumed_at) stops the clock. If the clock
    is stopped now (a pause with no resume) and the target was not reached before it,
    there is no due time until it resumes.
    """
    origin = _require_aware(start, "start")
    if target < timedelta(0):
        raise ValueError("target must not be negative.")
    if target == timedelta(0):
        return origin
    history = list(pauses)
    open_pause = next((p for p, r in history if r is None), None)
    # Up to `horizon` the pauses are known; after it the clock runs (or stays stopped).
    horizon = max(
        [origin]
        + [_require_aware(r, "resumed_at") for _, r in history if r is not None]
        + ([_require_aware(open_pause, "paused_at")] if open_pause is not None else [])
    )
    remaining = target
    for a, b in _active_spans(origin, horizon, merge_pauses(origin, horizon, history)):
        worked = business_time_between(calendar, a, b)
        if worked >= remaining:
            return add_business_time(calendar, a, remaining)
        remaining -= worked
    if open_pause is not None:
        return None
    return add_business_time(calendar, horizon, remaining)


__all__ = [
    "Calendar",
    "CalendarError",
    "add_business_time",
    "business_time_between",
    "day_pieces",
    "due_at",
    "elapsed_business_time",
    "is_working_time",
    "load_zone",
    "merge_pauses",
    "time_to_us",
]
