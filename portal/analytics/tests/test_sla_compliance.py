"""SLA compliance on /analytics: % of targets met per group, team and priority."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.analytics.period import Period
from portal.analytics.sla import compliance
from portal.tickets import services
from portal.tickets.access import visible_tickets
from portal.tickets.models import Status
from portal.tickets.tests.sla_fixtures import H, always_open, clock_at

pytestmark = pytest.mark.django_db
always_open = always_open  # the fixture, imported for this module


def last_30_days() -> Period:
    today = timezone.localdate()
    return Period(today - dt.timedelta(days=29), today)


@pytest.fixture
def decided(always_open, personas, org):
    """Urgent (1 h / 4 h on a 24/7 calendar), two days ago: one met, one late, one never
    touched (group Y, no team: both targets missed while open); a fresh one not yet due."""
    start = timezone.now() - dt.timedelta(days=2)

    def raise_at(title, **extra):
        with clock_at(start):
            return services.ticket_create(
                requester=personas.requester, title=title, description="-", priority="urgent",
                **{"group": org.group_x, "category": org.hardware, **extra},
            )  # fmt: skip

    for title, when in (("on time", H), ("late", 5 * H)):
        ticket = raise_at(title)
        with clock_at(start + when):
            services.ticket_change_status(
                actor=personas.admin, ticket=ticket, status=Status.RESOLVED
            )
    raise_at("forgotten", group=org.group_y, category=org.payroll)
    services.ticket_create(
        requester=personas.requester, title="fresh", description="-", priority="urgent",
        group=org.group_x, category=org.hardware,
    )  # fmt: skip


def _percentages(rows):
    return {row.label: (row.response_percent, row.resolution_percent) for row in rows}


def test_compliance_counts_met_late_and_missed_open_targets(decided, personas):
    result = compliance(visible_tickets(personas.admin), last_30_days())
    assert (result.total.response_met, result.total.response_total) == (1, 3)
    assert (result.total.resolution_met, result.total.resolution_total) == (1, 3)
    assert _percentages(result.breakdowns["group"]) == {"Group X": (50, 50), "Group Y": (0, 0)}
    assert _percentages(result.breakdowns["team"]) == {"Team A": (50, 50), "No team": (0, 0)}
    assert _percentages(result.breakdowns["priority"]) == {"Urgent": (33, 33)}


def test_compliance_only_counts_tickets_the_person_can_see(decided, personas):
    result = compliance(visible_tickets(personas.agent), last_30_days())
    assert [row.label for row in result.breakdowns["group"]] == ["Group X"]
    assert (result.total.resolution_met, result.total.resolution_total) == (1, 2)


def test_the_analytics_page_shows_compliance(decided, client_for, personas):
    page = client_for(personas.admin).get("/analytics", {"period": "30"}).content.decode()
    assert "SLA compliance" in page
    assert "Resolution: <strong>33%</strong> met (1 of 3)" in page
