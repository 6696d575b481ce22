"""The notification list's rows as HTML, written in Python.

The page shows 30 rows and did nothing else of note: with no SQL to speak of, its time was
the template loop (two `{% url %}`, two `{% csrf_token %}`, a `date` and a `timesince`
filter a row, about 7 ms of a 1M-ticket benchmark request; docs/benchmarks.md,
"Notifications, dashboards, API list and two-word search"). The rows are the loop body of
notifications/list.html as it was, byte for byte, every value escaped as `{{ }}` escaped it;
tests/test_list_html.py renders that loop with the template engine and compares.
"""

import datetime as dt
import html
from collections.abc import Iterable

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language

from portal.lib.memo import kept
from portal.lib.urls import around_id
from portal.notifications.models import Notification

_counts: dict[tuple, str] = {}


class _Counted:
    """A unit of `timesince` ("%(num)d day" / "days") whose `% {"num": n}` is translated
    once per language and count: the lazy `ngettext` behind each unit was most of the
    filter's cost. Derived from code and its key alone (CONTRIBUTING.md, "State in process
    memory")."""

    def __init__(self, unit: str):
        self.unit = unit

    def __mod__(self, values: dict[str, int]) -> str:
        num = values["num"]
        key = (self.unit, num, get_language())
        return kept(_counts, key, lambda: str(TIME_STRINGS[self.unit] % {"num": num}))


_TIME_STRINGS = {unit: _Counted(unit) for unit in TIME_STRINGS}


def time_since(moment: dt.datetime, now: dt.datetime) -> str:
    """`{{ moment|timesince }}` as of `now`: the same words, the units translated once."""
    return timesince(moment, now, time_strings=_TIME_STRINGS)  # type: ignore[arg-type]


def rows_html(
    notifications: Iterable[Notification], *, csrf_token: str, now: dt.datetime | None = None
) -> SafeString:
    """The `{% for n in notifications %}` body of notifications/list.html for each row."""
    now = now or timezone.now()
    head, tail = around_id("notification-read")
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{html.escape(csrf_token)}">'
    parts = []
    for n in notifications:
        action = f"{head}{int(n.pk)}{tail}"
        unread = not n.read_at
        created = n.created_at
        mark = (
            f'\n    <form method="post" action="{action}" class="inline">\n'
            f'      {token}<button type="submit" class="small">Mark read</button>\n'
            "    </form>\n    "
            if unread
            else ""
        )
        # The whitespace is the template's, so the page is the same byte for byte.
        parts.append(
            f'\n  <li class="notification{" unread" if unread else ""}">\n'
            f'    <form method="post" action="{action}">\n'
            f"      {token}\n"
            '      <input type="hidden" name="open" value="1">\n'
            f'      <button type="submit" class="link-button">{html.escape(n.text)}</button>\n'
            "    </form>\n"
            '    <span class="muted"><time datetime="'
            f'{timezone.localtime(created).isoformat()}">'
            f"{html.escape(time_since(created, now))} ago</time></span>\n"
            f"    {mark}\n  </li>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)
