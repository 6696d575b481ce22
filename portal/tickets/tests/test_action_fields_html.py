"""The assign and move-team forms' fields written in Python (detail_forms_html.assign_fields,
move_fields) are what the template wrote of the unbound Django forms the page showed,
byte for byte: with the assignee among the members, not among them or nobody, hostile
names, any version."""

import pytest
from django.template import Context, Engine

from portal.accounts.models import User
from portal.tickets.detail_forms_html import assign_fields, move_fields
from portal.tickets.forms import AssignForm, MoveTeamForm

# The lines of tickets/detail.html the unbound forms went through (Django's own widget
# templates: the forms here use the default renderer).
ASSIGN = (  # fmt: skip
    "{{ assign_form.version }}\n"
    '          <label for="{{ assign_form.assignee.id_for_label }}">Assign to</label>\n'
    "          {{ assign_form.assignee }}\n"
    '          <label for="{{ assign_form.reason.id_for_label }}">Reason (optional)</label>\n'
    "          {{ assign_form.reason }}"
)
MOVE = (  # fmt: skip
    "{{ move_form.version }}\n"
    '          <label for="{{ move_form.team.id_for_label }}">Move to team</label>\n'
    "          {{ move_form.team }}\n"
    '          <label for="{{ move_form.reason.id_for_label }}">Why</label>\n'
    "          {{ move_form.reason }}"
)
HOSTILE = '<b onmouseover="x">&\'"'
MEMBERS = [(3, "Ann Agent"), (11, HOSTILE), (12, "Émile & co")]


def _render(source: str, **context) -> str:
    return Engine(autoescape=True).from_string(source).render(Context(context))


def _choices(field, rows) -> None:
    """What the page did: the cached rows as the select's choices, after its empty label."""
    field.widget.choices = [("", field.empty_label), *rows]


@pytest.mark.parametrize("assignee", [3, 11, None, 99])
@pytest.mark.parametrize("members", [MEMBERS, []])
@pytest.mark.parametrize("version", [1, 2**31 - 1])
def test_the_assign_fields_are_what_the_unbound_form_wrote(assignee, members, version):
    form = AssignForm(
        initial={"version": version, "assignee": assignee}, members=User.objects.none()
    )
    _choices(form.fields["assignee"], members)
    expected = _render(ASSIGN, assign_form=form)
    written = assign_fields(version=version, assignee_id=assignee, members=members)
    assert written == expected
    assert HOSTILE not in written


@pytest.mark.parametrize("teams", [MEMBERS, []])
@pytest.mark.parametrize("version", [1, 2**31 - 1])
def test_the_move_fields_are_what_the_unbound_form_wrote(teams, version):
    form = MoveTeamForm(initial={"version": version})
    _choices(form.fields["team"], teams)
    expected = _render(MOVE, move_form=form)
    written = move_fields(version=version, teams=teams)
    assert written == expected
    assert HOSTILE not in written


@pytest.mark.django_db
def test_a_refused_assign_shows_its_bound_form_again_and_the_move_fields(
    ticket, personas, client_for
):
    response = client_for(personas.admin).post(
        f"/tickets/{ticket.number}/assign",
        {"version": ticket.version, "assignee": "not a person", "reason": "typed <reason>"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please correct the form" in html
    # What they typed is still there, and the select says it was wrong.
    assert 'value="typed &lt;reason&gt;" maxlength="1000" id="id_assign_reason"' in html
    assert '<select name="assignee" aria-invalid="true"' in html
    assert '<select name="team" required id="id_team">' in html
