"""`ShortDates` writes what the `date` filter writes, in the request's language, with the
month names kept per language."""

import datetime as dt

from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from portal.lib.dates import ShortDates

WHEN = dt.datetime(2026, 3, 9, 7, 5, tzinfo=dt.UTC)


@timezone.override(dt.UTC)  # the filter writes local time; the label writes what it is given
def test_each_language_gets_its_own_month_names_in_either_order():
    for languages in (("en", "de"), ("de", "en")):
        for language in languages:
            with translation.override(language):
                assert ShortDates().label(WHEN) == date_filter(WHEN, "j M Y H:i")
    with translation.override("de"):
        assert ShortDates().label(WHEN) == "9 Mär 2026 07:05"
    with translation.override("en"):
        assert ShortDates().label(WHEN, year=False) == "9 Mar 07:05"
