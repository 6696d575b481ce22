"""Working hours as people write them: `09:00-12:30, 13:30-17:30` (blank: closed).

The admin form edits one line per weekday; `parse_day` turns a line into intervals and
`format_day` turns stored rows back into the same text.
"""

import re
from datetime import time

from portal.sla.business_time import DAY_US, time_to_us

_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")


def _time(hour: str, minute: str, *, is_end: bool) -> time:
    h, m = int(hour), int(minute)
    if is_end and h == 24 and m == 0:
        return time(0)  # 24:00: midnight at the end of the day
    if h > 23 or m > 59:
        raise ValueError(f"{hour}:{minute} is not a time of day.")
    return time(h, m)


def parse_day(text: str) -> list[tuple[time, time]]:
    """Intervals from `09:00-12:30, 13:30-17:30`; ValueError with a readable message."""
    intervals: list[tuple[time, time]] = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        match = _INTERVAL.match(part)
        if not match:
            raise ValueError(f"“{part[:40]}” is not an interval like 09:00-17:30.")
        start = _time(match[1], match[2], is_end=False)
        end = _time(match[3], match[4], is_end=True)
        if time_to_us(end, is_end=True) <= time_to_us(start):
            raise ValueError(
                f"{part} ends before it starts. Intervals cannot cross midnight: "
                "write 22:00-24:00 on this day and 00:00-06:00 on the next."
            )
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
        if time_to_us(start) < time_to_us(end, is_end=True):
            raise ValueError("Intervals overlap.")
    return intervals


def format_day(intervals: list[tuple[time, time]]) -> str:
    def end_text(end: time) -> str:
        return "24:00" if time_to_us(end, is_end=True) == DAY_US else f"{end:%H:%M}"

    return ", ".join(f"{start:%H:%M}-{end_text(end)}" for start, end in sorted(intervals))
