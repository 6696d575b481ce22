"""Dates written as the `date` filter writes them, for pages that write many.

The filter (django.utils.dateformat) parses its format and translates the month's name
again for every date: a fifth of a ticket list's row preparation, and two dates per comment
and history row of a ticket page. `ShortDates` translates the month names once (in the
language of the request it is made in) and writes the same text.
"""

import datetime as dt

from django.utils.dates import MONTHS_3
from django.utils.translation import get_language

# The month names by language: derived from code (the translation catalogues) and the
# language alone, the same in every process. Twelve lazy translations cost a page about as
# much as writing its dates.
_MONTHS: dict[str | None, dict[int, str]] = {}


class ShortDates:
    def __init__(self) -> None:
        language = get_language()
        months = _MONTHS.get(language)
        if months is None:
            months = {number: str(name).title() for number, name in MONTHS_3.items()}
            _MONTHS[language] = months
        self.months = months

    def label(self, value: dt.datetime, *, year: bool = True) -> str:
        """`value` as "j M Y H:i" writes it (or "j M H:i" without the year)."""
        day = f"{value.day} {self.months[value.month]}"
        if year:
            day += f" {value.year:04d}"
        return f"{day} {value.hour:02d}:{value.minute:02d}"
