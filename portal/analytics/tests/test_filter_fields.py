"""The analytics page's period and filter fields, kept rendered (analytics/filter_fields.py):
the same HTML as a full render, the chosen values marked, master data changes at once."""

import pytest

from portal.analytics import filter_fields
from portal.analytics.tests.test_query_counts import FIGURES, PER_REQUEST, SLA_COMPLIANCE

pytestmark = pytest.mark.django_db


def form_of(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('aria-label="Period and filters"')
    return html[start : html.index("</form>", start)]


@pytest.mark.parametrize(
    "params",
    [{}, {"period": "90", "priority": "high"},
     {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}],
)  # fmt: skip
def test_kept_fields_are_byte_for_byte_the_full_render(params, personas, org, client_for,
                                                       monkeypatch):  # fmt: skip
    client = client_for(personas.admin)
    chosen = {**params, "group": org.group_x.pk, "team": org.team_a.pk}
    rendered, kept = (
        form_of(client.get("/analytics", chosen)),
        form_of(client.get("/analytics", chosen)),
    )
    monkeypatch.setattr(filter_fields, "rendered", lambda form: None)  # the template's own render
    assert rendered == kept == form_of(client.get("/analytics", chosen))
    assert f'<option value="{org.group_x.pk}" selected>Group X</option>' in kept
    assert f'<option value="{org.team_a.pk}" selected>Team A</option>' in kept


def test_kept_fields_serve_everyone_with_the_same_values(dataset, personas, warm,
                                                         django_assert_num_queries):  # fmt: skip
    warm(personas.agent).get("/analytics", {"period": "7"})
    spoc = warm(personas.spoc)
    # The options are every group, category and team whoever looks: the SPOC's page
    # computes its own figures (another scope) but queries no option list.
    with django_assert_num_queries(PER_REQUEST + FIGURES + SLA_COMPLIANCE):
        assert spoc.get("/analytics", {"period": "7"}).status_code == 200


def test_a_renamed_team_shows_at_once(personas, org, client_for):
    client = client_for(personas.admin)
    assert ">Team A</option>" in form_of(client.get("/analytics"))
    org.team_a.name = "Team Alpha"
    org.team_a.save()
    assert ">Team Alpha</option>" in form_of(client.get("/analytics"))


def test_an_odd_spelling_of_a_choice_is_rendered_not_kept(personas, org, client_for,
                                                          django_assert_num_queries):  # fmt: skip
    client = client_for(personas.admin)
    odd = {"group": f"0{org.group_x.pk}"}
    client.get("/analytics", odd)
    # The figures are kept (the same group); the fields are rendered again: the group's
    # lookup and the three option lists.
    with django_assert_num_queries(PER_REQUEST + 1 + 3):
        form = form_of(client.get("/analytics", odd))
    assert "Group X" in form
