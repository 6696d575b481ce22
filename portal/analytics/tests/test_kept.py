"""The analytics figures kept per scope (analytics/kept.py): never shared across scopes,
never outliving a change of scope, and saying how old they are.

The conftest data set over the last 30 days: the admin sees 8 tickets created (group X's
seven and t9 of group Y), the SPOC of group X and team A's agent and lead group X's seven.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from portal.analytics import kept
from portal.analytics.figures import Figures
from portal.analytics.period import Period
from portal.analytics.sla import Compliance
from portal.tickets import services
from portal.tickets.access import Reach, reach_of

pytestmark = pytest.mark.django_db


def created(response) -> int:
    assert response.status_code == 200
    match = re.search(
        r'data-figure="created".*?figure-count">(\d+)<', response.content.decode(), re.S
    )
    assert match, "no created figure on the page"
    return int(match.group(1))


def results(response) -> str:
    """The page after its filter form (whose options name every group)."""
    after_filters = response.content.decode().split('aria-label="Period and filters"', 1)[1]
    return after_filters.split("</form>", 1)[1]


def test_viewers_with_different_scopes_never_share_figures(dataset, personas, client_for):
    # The admin fills an entry first; the SPOC, then the agent, must not be given it.
    assert created(client_for(personas.admin).get("/analytics")) == 8
    spoc_page = client_for(personas.spoc).get("/analytics")
    assert created(spoc_page) == 7
    assert "Group X" in results(spoc_page) and "Group Y" not in results(spoc_page)
    assert created(client_for(personas.agent).get("/analytics")) == 7
    # And the other way round: the narrower scope first.
    assert created(client_for(personas.spoc).get("/analytics", {"period": "7"})) == 4
    assert created(client_for(personas.admin).get("/analytics", {"period": "7"})) == 5


def test_the_csv_of_one_scope_is_never_another_scopes(dataset, personas, client_for):
    client_for(personas.admin).get("/analytics")
    rows = client_for(personas.spoc).get("/analytics/group.csv").content.decode()
    assert "Group X" in rows and "Group Y" not in rows


def test_a_viewer_whose_scope_grows_sees_it_at_once(dataset, personas, org, client_for):
    client = client_for(personas.spoc)
    assert created(client.get("/analytics")) == 7
    org.group_y.spocs.add(personas.spoc)  # now SPOC of both groups: t9 of group Y counts
    assert created(client.get("/analytics")) == 8


def test_a_viewer_whose_scope_shrinks_sees_it_at_once(dataset, personas, org, client_for):
    client = client_for(personas.spoc)
    org.group_y.spocs.add(personas.spoc)
    assert "Group Y" in results(client.get("/analytics"))
    org.group_y.spocs.remove(personas.spoc)
    page = client.get("/analytics")
    assert created(page) == 7
    assert "Group Y" not in results(page)


def test_figures_are_kept_for_a_while_and_say_as_of_when(dataset, personas, org, client_for):
    client = client_for(personas.admin)
    first = client.get("/analytics")
    services.ticket_create(
        requester=personas.requester, title="One more", description="x",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    again = client.get("/analytics")
    assert created(first) == created(again) == 8
    as_of = timezone.localtime(first.context["as_of"]).strftime("%H:%M")
    assert f"Figures as of {as_of}." in again.content.decode()
    # Another period is another entry, computed now.
    assert created(client.get("/analytics", {"period": "90"})) == 10


def test_with_no_cache_time_every_page_is_computed(dataset, personas, org, client_for, settings):
    settings.ANALYTICS_CACHE_SECONDS = 0
    client = client_for(personas.admin)
    assert created(client.get("/analytics")) == 8
    services.ticket_create(
        requester=personas.requester, title="One more", description="x",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    assert created(client.get("/analytics")) == 9


def test_the_key_holds_exactly_what_work_tickets_reads(dataset, personas):
    # Team members also work what is assigned to them: their own id is part of the scope.
    agent, lead = reach_of(personas.agent), reach_of(personas.lead)
    assert agent.team_ids == lead.team_ids
    assert kept.scope_of(agent) != kept.scope_of(lead)
    # SPOCs of the same groups (no team) work the same tickets: they may share.
    a = Reach(user_id=1, group_ids=(3, 4))
    b = Reach(user_id=2, group_ids=(3, 4))
    assert kept.scope_of(a) == kept.scope_of(b)
    assert kept.scope_of(a) != kept.scope_of(Reach(user_id=1, group_ids=(3,)))
    assert kept.scope_of(Reach(user_id=1, everything=True)) != kept.scope_of(a)
    assert kept.scope_of(Reach()) != kept.scope_of(Reach(user_id=1, everything=True))


def test_an_entry_lives_a_minute_from_its_computation_not_its_last_write(settings):
    settings.ANALYTICS_CACHE_SECONDS = 60
    now = timezone.now()
    figures = Figures(period=Period(now.date(), now.date()))
    young = kept.Kept(as_of=now - dt.timedelta(seconds=30), figures=figures, sla=Compliance())
    old = kept.Kept(as_of=now - dt.timedelta(seconds=61), figures=figures, sla=Compliance())
    kept.put("young", young)
    kept.put("old", old)
    assert kept.get("young") is not None
    assert kept.get("old") is None


def test_a_deploy_that_changes_the_results_page_reads_no_entry_of_the_one_before(monkeypatch):
    # An entry pickled by the code before a deploy could fail to unpickle, or draw the old
    # page: its key must change with the results template's source.
    reach, period = (
        Reach(user_id=1, everything=True),
        Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    )
    kept._deploy.cache_clear()
    before = kept.key_of(reach, "", period)
    assert kept.key_of(reach, "", period) == before  # the same code: the same key

    real = kept.get_template

    def changed(name):
        template = real(name)
        monkeypatch.setattr(template.template, "source", template.template.source + "<p>new</p>")
        return template

    monkeypatch.setattr(kept, "get_template", changed)
    kept._deploy.cache_clear()
    try:
        assert kept.key_of(reach, "", period) != before
    finally:
        monkeypatch.undo()
        kept._deploy.cache_clear()
    assert kept.key_of(reach, "", period) == before
