"""The ticket page's side (watch form and actions) written in Python
(`detail_forms_html.side_html`) is what tickets/_side.html writes, byte for byte, in every
branch (whole pages: test_page_python_parts.py)."""

import itertools

import pytest
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from portal.tickets.detail_forms_html import side_html
from portal.tickets.detail_html import csrf_input, number_urls

HOSTILE = '<b onmouseover="x">&\'"'
TOKEN = "a" * 64
ASSIGN = mark_safe('<input type="hidden" name="version" value="3" id="id_assign_version">')  # noqa: S308 (a fixed string)
MOVE = mark_safe('<input type="hidden" name="version" value="3" id="id_version">')  # noqa: S308 (a fixed string)


def _template(number, **values) -> str:
    family = {
        "open_children": [object()] * values["open_children"],
        "can_merge": values["can_merge"],
    }
    context = {
        "ticket": {"number": number, "version": 3},
        "csrf_token": TOKEN,
        "watching": values["watching"],
        "watcher_only": values["watcher_only"],
        "can_take": values["can_take"],
        "status_targets": values["status_targets"],
        "family": family,
        "requester_only": values["requester_only"],
        "can_assign": values["assign_fields"] is not None,
        "assign_form": None,
        "assign_fields": values["assign_fields"],
        "can_move": values["move_fields"] is not None,
        "move_form": None,
        "move_fields": values["move_fields"],
        "can_edit": values["can_edit"],
    }
    return get_template("tickets/_side.html").render(context)


def _python(number, **values) -> str:
    return side_html(number=number, version=3, csrf=csrf_input(TOKEN), **values)


TARGETS = [[], [("in_progress", "In progress")], [("resolved", "Resolved"), (HOSTILE, HOSTILE)]]
FLAGS = [
    dict(zip(
        ("watching", "watcher_only", "can_take", "requester_only", "can_edit", "can_merge"), bits,
        strict=True,
    ))
    for bits in itertools.product([False, True], repeat=6)
]  # fmt: skip


@pytest.mark.parametrize("flags", FLAGS)
def test_the_side_is_what_the_template_wrote(flags):
    forms = [(None, None), (ASSIGN, None), (None, MOVE), (ASSIGN, MOVE)]
    for targets, (assign, move), open_children in itertools.product(TARGETS, forms, [0, 2]):
        values = {
            **flags,
            "status_targets": targets,
            "open_children": open_children,
            "assign_fields": assign,
            "move_fields": move,
        }
        written = _python("TKT-000042", **values)
        assert written == _template("TKT-000042", **values), values
        assert HOSTILE not in written


@pytest.mark.parametrize("number", ["TKT-000042", "TKT-1", f"TKT-{HOSTILE}", "a b?c&d"])
def test_a_number_is_written_in_urls_as_url_writes_it(number):
    values = {
        "watching": False, "watcher_only": False, "can_take": True, "requester_only": False,
        "can_edit": True, "can_merge": True, "status_targets": TARGETS[1], "open_children": 0,
        "assign_fields": ASSIGN, "move_fields": MOVE,
    }  # fmt: skip
    assert _python(number, **values) == _template(number, **values)


def test_a_number_url_follows_the_script_prefix():
    from django.urls import clear_script_prefix, set_script_prefix

    before = number_urls("TKT-000042")("ticket-watch")
    set_script_prefix("/portal/")
    try:
        assert number_urls("TKT-000042")("ticket-watch") == "/portal/tickets/TKT-000042/watch"
    finally:
        clear_script_prefix()
    assert number_urls("TKT-000042")("ticket-watch") == before == "/tickets/TKT-000042/watch"
