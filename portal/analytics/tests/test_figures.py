"""The analytics figures against hand-computed values (see conftest.py for the data set)."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.analytics import charts, figures
from portal.analytics.period import Period
from portal.tickets.access import visible_tickets

pytestmark = pytest.mark.django_db

H = 3600.0


def last_30_days() -> Period:
    today = timezone.localdate()
    return Period(today - dt.timedelta(days=29), today)


def compute(user, **filters):
    return figures.compute(visible_tickets(user).filter(**filters), last_30_days())


def test_admin_figures_match_the_hand_computed_values(dataset, personas):
    result = compute(personas.admin)
    assert (result.created, result.resolved, result.open) == (8, 3, 6)
    assert result.age == [1, 3, 1, 1, 0]
    assert result.first_response[0.5] == pytest.approx(4 * H, abs=1)
    assert result.first_response[0.9] == pytest.approx(7.6 * H, abs=1)
    assert result.resolution[0.5] == pytest.approx(10 * H, abs=1)
    assert result.resolution[0.9] == pytest.approx(26 * H, abs=1)
    assert (result.reopens, result.resolutions) == (1, 4)
    assert result.reopen_rate == pytest.approx(0.25)


def test_breakdowns_count_tickets_created_in_the_period(dataset, personas, org):
    built = charts.build(compute(personas.admin))
    assert dict((label, v[0]) for label, v in built["group"].rows) == {"Group X": 7, "Group Y": 1}
    assert dict(built["team"].rows) == {"Team A": [7], "No team (unmapped)": [1]}
    status = dict((label, v[0]) for label, v in built["status"].rows)
    assert status == {"Awaiting approval": 0, "New": 1, "In progress": 4, "On hold": 0,
                      "Resolved": 3, "Closed": 0, "Cancelled": 0}  # fmt: skip
    priority = dict((label, v[0]) for label, v in built["priority"].rows)
    assert priority["High"] == 1 and sum(priority.values()) == 8
    assert dict(built["subcategory"].rows) == {"Laptop": [7], "No subcategory": [1]}


def test_trend_has_one_row_per_day_and_adds_up(dataset, personas):
    built = charts.build(compute(personas.admin))
    trend = built["trend"]
    assert len(trend.rows) == 30
    assert trend.total == [8, 3]
    today = timezone.localdate().isoformat()
    assert dict(trend.rows)[today][1] == 0  # t1, t2, t8 were resolved days ago


def test_workload_per_team_and_agent(dataset, personas):
    result = compute(personas.admin)
    teams = {row["label"]: row for row in result.teams}
    assert (teams["Team A"]["open"], teams["Team A"]["unassigned"]) == (4, 0)
    assert teams["Team A"]["resolved"] == 3
    assert (teams[""]["open"], teams[""]["unassigned"]) == (2, 2)  # t6, t9: no team
    agents = {row["label"]: (row["open"], row["resolved"]) for row in result.agents}
    assert agents == {"Agent Persona": (2, 2), "Lead Persona": (2, 1)}


def test_a_spoc_never_counts_another_groups_tickets(dataset, personas):
    result = compute(personas.spoc)
    assert (result.created, result.open) == (7, 4)
    assert result.age == [1, 2, 1, 0, 0]
    built = charts.build(result)
    assert [label for label, _ in built["group"].rows] == ["Group X"]


def test_an_agent_counts_only_their_teams_and_their_own(dataset, personas, org):
    result = compute(personas.agent)
    assert (result.created, result.open) == (7, 4)
    # Filtering on a group the agent cannot see gives nothing, not the group's totals.
    other = compute(personas.agent, group=org.group_y)
    assert (other.created, other.open, other.resolutions) == (0, 0, 0)


def test_filters_narrow_every_figure(dataset, personas):
    result = compute(personas.admin, priority="high")
    assert (result.created, result.resolved, result.open) == (1, 0, 1)
    assert result.first_response[0.5] == pytest.approx(3 * H, abs=1)
    assert result.resolution[0.5] is None


def test_a_period_in_the_past_counts_only_its_own_days(dataset, personas):
    today = timezone.localdate()
    # Days 6..4 ago hold only t2 (created 5 days ago).
    period = Period(today - dt.timedelta(days=6), today - dt.timedelta(days=4))
    result = figures.compute(visible_tickets(personas.admin), period)
    assert (result.created, result.resolved) == (1, 1)
    assert (result.reopens, result.resolutions) == (0, 0)  # today's status changes are outside


def test_an_agent_counts_tickets_they_raised_themselves_but_the_spoc_does_not(
    dataset, personas, org
):
    from portal.tickets import services

    services.ticket_create(
        requester=personas.agent, title="My payslip", description="Wrong.",
        group=org.group_y, category=org.payroll,
    )  # fmt: skip
    agent = charts.build(compute(personas.agent))
    assert dict((label, v[0]) for label, v in agent["group"].rows) == {"Group X": 7, "Group Y": 1}
    spoc = charts.build(compute(personas.spoc))
    assert [label for label, _ in spoc["group"].rows] == ["Group X"]


def test_the_spocs_page_and_csv_never_name_another_groups_tickets(dataset, personas, client_for):
    client = client_for(personas.spoc)
    assert "Group Y" not in client.get("/analytics").content.decode().split("<h1>", 1)[1].split(
        'id="chart-trend"', 1)[1]  # fmt: skip
    assert "Group Y" not in client.get("/analytics/group.csv").content.decode()
    assert "No team (unmapped)" not in client.get("/analytics/team.csv").content.decode()


def test_analytics_statements_are_planned_for_their_own_period(dataset, personas):
    """With prepared statements a statement may get one plan for any period after five
    runs; a week's and two years' tickets need different plans (postgres.tune_for_analytics)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    seen = []

    def show_plan_mode(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "tickets_ticket" in sql:  # the statements reading the period's tickets
            with context["connection"].cursor() as cursor:
                cursor.execute("SELECT current_setting('plan_cache_mode')")
                seen.append(cursor.fetchone()[0])
        return result

    with connection.execute_wrapper(show_plan_mode):
        compute(personas.admin)
    assert seen and set(seen) == {"force_custom_plan"}
