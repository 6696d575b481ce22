"""A list row written in Python is the HTML the template wrote, escaping included."""

import itertools

import pytest
from django.template import engines
from django.utils.safestring import mark_safe

from portal.catalog.models import Priority
from portal.tickets.list_row_html import options_html, row_html
from portal.tickets.models import Status

# The loop body of tickets/_results.html before the rows were written in Python (its two
# comments removed: they render nothing).
TEMPLATE_ROW = (  # fmt: skip
    "\n"
    "    \n"
    "    <tr>\n"
    '      {% if can_bulk %}<td class="cell-select"><input type="checkbox" name="numbers" value="{{ row.number }}" form="bulk-form" aria-label="Select {{ row.number }}"></td>{% endif %}\n'  # noqa: E501
    "      \n"
    '      <td class="cell-number"><a href="{{ row.url }}">{{ row.number }}</a></td>\n'
    '      <td class="cell-title"><a href="{{ row.url }}" tabindex="-1">{{ row.title }}</a></td>\n'
    '      <td class="cell-status"><span class="status status-{{ row.status }}">{{ row.status_label }}</span></td>\n'  # noqa: E501
    '      <td data-label="Priority">{{ row.priority_label }}</td>\n'
    '      <td data-label="Classification">{{ row.classification }}</td>\n'
    '      <td data-label="Team">{{ row.team }}</td>\n'
    '      <td data-label="Assignee">{{ row.assignee }}</td>\n'
    '      <td data-label="Requester">{{ row.requester }}</td>\n'
    '      <td data-label="Updated"><time datetime="{{ row.updated_iso }}">{{ row.updated }}</time></td>\n'  # noqa: E501
    '      <td data-label="SLA due">{% if row.sla_state %}{% if row.sla_due %}<time datetime="{{ row.sla_due_iso }}">{{ row.sla_due }}</time> {% endif %}<span class="sla sla-{{ row.sla_state }}">{{ row.sla_label }}</span>{% else %}<span class="muted">—</span>{% endif %}\n'  # noqa: E501
    "</td>\n"
    "    </tr>\n"
    "  "
)

HOSTILE = "<script>alert(\"x\")</script> & 'quotes'"


def _row(**overrides) -> dict:
    row = {
        "number": "TKT-000042",
        "url": "/tickets/TKT-000042",
        "title": "Printer on floor 3",
        "status": "in_progress",
        "status_label": "In progress",
        "priority_label": "High",
        "classification": "IT / Hardware / Printers",
        "team": "Service Desk",
        "assignee": "—",
        "requester": "Ann O'Neil <ann@example.com>",
        "updated_iso": "2026-12-04T10:00:00+00:00",
        "updated": "4 Dec 2026",
        "sla_state": "warning",
        "sla_label": "Due soon",
        "sla_due_iso": "2026-12-05T10:00:00+00:00",
        "sla_due": "5 Dec",
    }
    return row | overrides


@pytest.mark.parametrize(
    ("can_bulk", "overrides"),
    list(
        itertools.product(
            [True, False],
            [
                {},
                {"sla_state": None, "sla_label": "", "sla_due": "", "sla_due_iso": ""},
                {"sla_due": "", "sla_due_iso": ""},
                {key: HOSTILE for key in _row()},
                # HTML already marked safe is written as it is, not escaped twice.
                {"assignee": mark_safe("<em>Unassigned</em>")},  # noqa: S308
            ],
        )
    ),
)
def test_a_row_is_the_html_the_template_wrote(can_bulk, overrides):
    row = _row(**overrides)
    template = engines["django"].from_string(TEMPLATE_ROW)
    expected = template.render({"row": row, "can_bulk": can_bulk})
    assert row_html(row, can_bulk=can_bulk) == expected
    if overrides.get("title") == HOSTILE:
        assert "<script>" not in row_html(row, can_bulk=can_bulk)


# The loop of the bulk form's selects in tickets/_results.html before it was written in Python.
TEMPLATE_OPTIONS = (
    '{% for value, label in choices %}<option value="{{ value }}">{{ label }}</option>{% endfor %}'
)


@pytest.mark.parametrize(
    "choices",
    [
        [],
        Status.choices,  # lazily translated labels
        Priority.choices,
        [(1, "Service Desk"), (22, HOSTILE), (3, mark_safe("<b>Safe</b>"))],  # noqa: S308
        [(HOSTILE, "value & label")],
    ],
)
def test_options_are_the_html_the_template_wrote(choices):
    template = engines["django"].from_string(TEMPLATE_OPTIONS)
    assert options_html(choices) == template.render({"choices": choices})


def test_a_plain_string_is_escaped_like_django_escapes_it():
    from django.utils.html import conditional_escape

    from portal.tickets.list_row_html import _escape

    for value in (HOSTILE, "", "a\u00a0b", "`back` {curly} %(x)s", '\u2014 "é"'):
        assert _escape(value) == conditional_escape(value)
