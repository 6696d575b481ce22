"""Dates written as the `date` filter writes them, for pages that write many.

The filter (django.utils.dateformat) parses its format and translates the month's name
again for every date: a fifth of a ticket list's row preparation, and two dates per comment
and history row of a ticket page. `ShortDates` translates the month names once (in the
language of the request it is made in) and writes the same text.
"""

import datetime as dt
import functools

from django.utils.dates import MONTHS_3
from django.utils.translation import get_language


# The month names by language: derived from code (the translation catalogues) and the
# language alone, the same in every process. Twelve lazy translations cost a page about as
# much as writing its dates. Bounded, as a memo keyed from a request is.
@functools.lru_cache(maxsize=32)
def _months(language: str | None) -> tuple[str, ...]:
    return ("", *(str(MONTHS_3[number]).title() for number in range(1, 13)))


class ShortDates:
    def __init__(self) -> None:
        self.months = _months(get_language())

    def label(self, value: dt.datetime, *, year: bool = True) -> str:
        """`value` as "j M Y H:i" writes it (or "j M H:i" without the year)."""
        day = f"{value.day} {self.months[value.month]}"
        if year:
            day += f" {value.year:04d}"
        return f"{day} {value.hour:02d}:{value.minute:02d}"
