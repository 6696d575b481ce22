"""One row of the ticket list as HTML, written in Python.

The list's 25 rows were its largest rendering cost: about 22 variables a row, each resolved,
localised and escaped by the template engine (docs/benchmarks.md, "Fixed cost per signed-in
request and the list pages"). The values come ready as strings from list_views.list_rows,
so the row is one string format with every value escaped as the template did (autoescape:
`conditional_escape`, which leaves HTML already marked safe alone).
tests/test_list_row_html.py compares it with the template it replaced, hostile values
included.

On a phone each row is a card, and each cell's data-label says what it is (tickets.css).
The number is the row's one tab stop; the title links to the same page for a tap or click.
"""

import html
from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _escape(value: Any) -> str:
    """`conditional_escape(value)`, with plain text escaped directly: Django's `escape` is
    `html.escape` behind a lazy-text check of every argument, which cost as much as the
    row's formatting (about 550 values a page)."""
    return html.escape(value) if type(value) is str else conditional_escape(value)


def row_html(row: dict, *, can_bulk: bool) -> SafeString:
    e = {key: _escape(value) for key, value in row.items()}
    select = (
        f'<td class="cell-select"><input type="checkbox" name="numbers" value="{e["number"]}"'
        f' form="bulk-form" aria-label="Select {e["number"]}"></td>'
        if can_bulk
        else ""
    )
    if row["sla_state"]:
        due = (
            f'<time datetime="{e["sla_due_iso"]}">{e["sla_due"]}</time> ' if row["sla_due"] else ""
        )
        sla = f'{due}<span class="sla sla-{e["sla_state"]}">{e["sla_label"]}</span>'
    else:
        sla = '<span class="muted">—</span>'
    # The whitespace is the template's, so the page is the same byte for byte.
    return mark_safe(  # noqa: S308 (every value above is escaped)
        "\n    \n    <tr>\n      "
        f"{select}\n      \n"
        f'      <td class="cell-number"><a href="{e["url"]}">{e["number"]}</a></td>\n'
        f'      <td class="cell-title"><a href="{e["url"]}" tabindex="-1">{e["title"]}</a></td>\n'
        f'      <td class="cell-status"><span class="status status-{e["status"]}">'
        f"{e['status_label']}</span></td>\n"
        f'      <td data-label="Priority">{e["priority_label"]}</td>\n'
        f'      <td data-label="Classification">{e["classification"]}</td>\n'
        f'      <td data-label="Team">{e["team"]}</td>\n'
        f'      <td data-label="Assignee">{e["assignee"]}</td>\n'
        f'      <td data-label="Requester">{e["requester"]}</td>\n'
        f'      <td data-label="Updated"><time datetime="{e["updated_iso"]}">{e["updated"]}'
        "</time></td>\n"
        f'      <td data-label="SLA due">{sla}\n</td>\n    </tr>\n  '
    )


def options_html(choices) -> SafeString:
    """`<option value="{{ value }}">{{ label }}</option>` for each (value, label), escaped
    as the template engine does (the bulk form's statuses and teams: 30-odd variables a
    page through the engine)."""
    return mark_safe(  # noqa: S308 (every value is escaped)
        "".join(
            f'<option value="{_escape(str(value))}">{_escape(str(label))}</option>'
            for value, label in choices
        )
    )
