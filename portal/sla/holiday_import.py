"""Parsing a holiday list: one `YYYY-MM-DD name` per line.

Blank lines and lines starting with `#` are skipped. Every bad line is reported with its
number; the caller writes nothing unless the whole list is clean.
"""

from dataclasses import dataclass, field
from datetime import date

MAX_LINES = 2000
MAX_NAME = 120


@dataclass
class ParsedHolidays:
    holidays: dict[date, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse_holiday_lines(text: str) -> ParsedHolidays:
    """The holidays in `text`, or the reasons it cannot be imported (one per bad line)."""
    result = ParsedHolidays()
    first_seen: dict[date, int] = {}
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        result.errors.append(f"The list has {len(lines)} lines; at most {MAX_LINES} at a time.")
        return result
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        day_text, _, name = line.partition(" ")
        name = " ".join(name.split())
        try:
            day = date.fromisoformat(day_text)
            if len(day_text) != 10:
                raise ValueError
        except ValueError:
            result.errors.append(f"Line {number}: “{day_text[:40]}” is not a date (YYYY-MM-DD).")
            continue
        if not name:
            result.errors.append(f"Line {number}: a name is needed after the date.")
        elif len(name) > MAX_NAME:
            result.errors.append(f"Line {number}: the name is longer than {MAX_NAME} characters.")
        elif day in first_seen:
            result.errors.append(
                f"Line {number}: {day.isoformat()} is already on line {first_seen[day]}."
            )
        else:
            first_seen[day] = number
            result.holidays[day] = name
    if not result.holidays and not result.errors:
        result.errors.append("The list has no holidays in it.")
    return result
