"""The notification list's rows written in Python are the HTML the template loop wrote."""

import datetime as dt

import pytest
from django.template import engines
from django.utils import timezone, translation

from portal.notifications.list_html import rows_html, time_since
from portal.notifications.models import Notification

# The loop of notifications/list.html before its rows were written in Python (the
# `{% empty %}` branch stayed in the template).
TEMPLATE_LOOP = (  # fmt: skip
    "{% for n in notifications %}\n"
    '  <li class="notification{% if not n.read_at %} unread{% endif %}">\n'
    '    <form method="post" action="{% url \'notification-read\' n.pk %}">\n'
    "      {% csrf_token %}\n"
    '      <input type="hidden" name="open" value="1">\n'
    '      <button type="submit" class="link-button">{{ n.text }}</button>\n'
    "    </form>\n"
    '    <span class="muted"><time datetime="{{ n.created_at|date:\'c\' }}">{{ n.created_at|timesince }} ago</time></span>\n'  # noqa: E501
    "    {% if not n.read_at %}\n"
    '    <form method="post" action="{% url \'notification-read\' n.pk %}" class="inline">\n'
    '      {% csrf_token %}<button type="submit" class="small">Mark read</button>\n'
    "    </form>\n"
    "    {% endif %}\n"
    "  </li>\n"
    "  {% endfor %}"
)

HOSTILE = "<script>alert(\"x\")</script> & 'quotes' \u00a0é"
TOKEN = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7kL9nP1rS3tV5xY7zA9cD1fG3h"
# Ages 30 s inside their minute, so the template's own "now" (a moment later) agrees.
AGES = [
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=1, seconds=30),
    dt.timedelta(minutes=59, seconds=15),
    dt.timedelta(hours=1, minutes=1, seconds=20),
    dt.timedelta(hours=23, seconds=20),
    dt.timedelta(days=1, seconds=20),
    dt.timedelta(days=6, hours=23, seconds=20),
    dt.timedelta(days=15, hours=2, seconds=20),
    dt.timedelta(days=40, seconds=20),
    dt.timedelta(days=400, seconds=20),
    dt.timedelta(days=3000, hours=5, seconds=20),
    -dt.timedelta(minutes=5),  # a clock a little ahead: "0 minutes"
]


def _notifications(now: dt.datetime) -> list[Notification]:
    rows = []
    for i, age in enumerate(AGES):
        created = now - age
        rows.append(
            Notification(
                pk=i + 1 if i % 3 else 2_000_000_000 + i,
                text=HOSTILE if i % 4 == 0 else f"TKT-{i:06d} was assigned to you",
                created_at=created.replace(microsecond=123456 if i % 2 else 0),
                read_at=None if i % 2 else created + dt.timedelta(minutes=1),
            )
        )
    return rows


def _expected(notifications: list[Notification]) -> str:
    template = engines["django"].from_string(TEMPLATE_LOOP)
    return template.render({"notifications": notifications, "csrf_token": TOKEN})


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_rows_are_the_html_the_template_loop_wrote(zone):
    with timezone.override(zone):
        now = timezone.now()
        notifications = _notifications(now)
        written = rows_html(notifications, csrf_token=TOKEN, now=now)
        assert written == _expected(notifications)
    assert "<script>" not in written
    assert written.count('class="notification unread"') == len(AGES) // 2


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
def test_the_age_is_the_timesince_filters_in_each_language(language):
    now = timezone.now()
    notifications = _notifications(now)
    with translation.override(language):
        # Twice: the first fills the kept translations, the second reads them.
        for _ in range(2):
            assert rows_html(notifications, csrf_token=TOKEN, now=now) == _expected(notifications)


def test_no_rows_write_nothing():
    assert rows_html([], csrf_token=TOKEN) == _expected([]) == ""


def test_time_since_counts_like_django():
    from django.utils.timesince import timesince

    now = timezone.now()
    for age in AGES:
        assert time_since(now - age, now) == timesince(now - age, now)
