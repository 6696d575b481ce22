"""The ticket page's related-tickets part (for a ticket with none the viewer may see) and
its request-form answers, written in Python (detail_html.family_html, answers_html), are
what tickets/_family.html and tickets/_form_answers.html write, byte for byte."""

import itertools
from types import SimpleNamespace

import pytest
from django.template.loader import get_template

from portal.tickets.detail_html import answers_html, csrf_input, family_html

HOSTILE = '<b onmouseover="x">&\'"'
TOKEN = "c" * 64
NUMBER = "TKT-000042"


def _family(can_set_parent: bool) -> dict:
    return {
        "merged_into": None, "parent": None, "merged_here": [], "children": [],
        "open_children": [], "can_merge": False, "can_set_parent": can_set_parent,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("can_set_parent", "parent_id"), list(itertools.product([False, True], [None, 7]))
)
def test_no_related_tickets_are_what_the_template_wrote(can_set_parent, parent_id):
    family = _family(can_set_parent)
    ticket = {"number": NUMBER, "parent_id": parent_id}
    expected = get_template("tickets/_family.html").render(
        {"family": family, "ticket": ticket, "csrf_token": TOKEN}
    )
    assert family_html(family, number=NUMBER, parent_id=parent_id, csrf=csrf_input(TOKEN)) == (
        expected
    )


def test_related_tickets_are_left_to_the_template():
    related = SimpleNamespace(number="TKT-000001", title=HOSTILE)
    for part, value in (("parent", related), ("children", [related]), ("merged_here", [related])):
        family = {**_family(True), part: value}
        assert family_html(family, number=NUMBER, parent_id=None, csrf=csrf_input(TOKEN)) is None


def _answer(label, text, retired=False):
    return SimpleNamespace(key=label, label=label, text=text, retired=retired)


@pytest.mark.parametrize(
    "answers",
    [
        [],
        [_answer("Asset tag", "A-123")],
        [_answer(HOSTILE, HOSTILE), _answer("Old field", "kept", retired=True), _answer("", "")],
    ],
)
def test_the_answers_are_what_the_template_wrote(answers):
    expected = get_template("tickets/_form_answers.html").render({"answers": answers})
    written = answers_html(answers)
    assert written == expected
    assert HOSTILE not in written
