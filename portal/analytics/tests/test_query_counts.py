"""Query counts are pinned, and do not grow with the number of tickets.

Every signed-in page once cost six queries besides its own: 1. session row, 2. user row,
3. the user's SPOC groups, 4. the user's team memberships (roles, once per request), 5. the
unread-notifications count (navigation bell), and 6. the page-view counter's upsert
(PageViewMiddleware, after the page is rendered). Now one: the session row with its user
joined (accounts/session_user.py). Each client makes one warm-up request first, so the
once-a-minute session refresh is not counted.
"""

import pytest
from django.db import connection

from portal.tickets import services

pytestmark = pytest.mark.django_db

# The session with its user, one statement; roles, the bell and the filter options come
# from the cache and page views are written once a minute (portal/lib/cache_versions.py,
# analytics/tracking.py).
PER_REQUEST = 1

# The dashboard: 1 aggregate over the user's own open tickets (raised by or assigned to
# them) and 1 short ticket list (recent updates or oldest open, team and assignee joined);
# people who work tickets add 1 grouped read of the rollup (open work per team, or group
# for SPOCs, and member for leads, every team/group/organisation figure a filtered sum)
# and 1 lookup of the names of those teams, groups and members; SPOCs and admins 1 count
# of the tickets waiting with nobody able to act (it reads live team membership).
DASHBOARD = {"requester": PER_REQUEST + 2, "outsider": PER_REQUEST + 2,
             **dict.fromkeys(["agent", "lead"], PER_REQUEST + 4),
             **dict.fromkeys(["spoc", "admin"], PER_REQUEST + 5)}  # fmt: skip

POSTGRES = connection.vendor == "postgresql"
# The figures from the rollup (figures.compute_for): on PostgreSQL 1 to set work_mem and
# jit for the transaction; 1 read of the rollup (every count, breakdown, trend, workload
# and the reopen rate); 1 lookup of the names of the groups, categories, subcategories,
# teams and agents it mentions; 1 count of the open tickets on the age buckets' boundary
# days; 1 for the four percentiles.
FIGURES = 4 + POSTGRES
# Agents and leads add the direct count of the tickets assigned to them outside their
# teams (the rollup cannot express "assigned to me"): every count and percentile (1 on
# PostgreSQL, 2 on SQLite) and the reopen rate from the ticket history (1).
RESIDUAL = 2 + (not POSTGRES)
IS_AGENT = {"agent": True, "lead": True, "spoc": False, "admin": False}
# SLA compliance (analytics/sla.py): 1 grouped count of targets met per (group, team,
# priority), whatever the number of tickets.
SLA_COMPLIANCE = 1
# /analytics: the figures, SLA compliance and 3 filter option lists (groups, categories,
# teams); admins add 2 for the page-view counts: writing those still in the cache (the
# warm-up's), then reading them.
ANALYTICS = PER_REQUEST + FIGURES + SLA_COMPLIANCE + 3


def _more_tickets(personas, org, count):
    for index in range(count):
        services.ticket_create(
            requester=personas.requester, title=f"More {index}", description="x",
            group=org.group_x, category=org.hardware, subcategory=org.printer,
        )  # fmt: skip


@pytest.mark.parametrize("persona", list(DASHBOARD))
@pytest.mark.parametrize("extra", [0, 20])
def test_dashboard_query_count_is_constant(
    persona, extra, dataset, personas, org, warm, django_assert_num_queries
):
    _more_tickets(personas, org, extra)
    client = warm(getattr(personas, persona))
    with django_assert_num_queries(DASHBOARD[persona]):
        response = client.get("/dashboard")
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["agent", "lead", "spoc", "admin"])
@pytest.mark.parametrize("extra", [0, 20])
def test_analytics_query_count_is_constant(
    persona, extra, dataset, personas, org, warm, django_assert_num_queries
):
    _more_tickets(personas, org, extra)
    client = warm(getattr(personas, persona))
    expected = ANALYTICS + (2 if persona == "admin" else 0) + RESIDUAL * IS_AGENT[persona]
    with django_assert_num_queries(expected):
        response = client.get("/analytics", {"period": "90"})
    assert response.status_code == 200


def test_filters_cost_one_lookup_each(dataset, personas, org, warm, django_assert_num_queries):
    client = warm(personas.admin)
    # The admin's page-view counts (2, see ANALYTICS); ModelChoiceField looks the chosen
    # group and team up (1 query each); priority is a fixed choice and costs nothing.
    with django_assert_num_queries(ANALYTICS + 2 + 2):
        response = client.get(
            "/analytics", {"group": org.group_x.pk, "team": org.team_a.pk, "priority": "high"}
        )
    assert response.status_code == 200


def test_csv_costs_only_the_figure_queries(dataset, personas, warm, django_assert_num_queries):
    client = warm(personas.agent)
    # Session and user (roles from the cache); the figure statements and SLA compliance,
    # kept together for the page (analytics/kept.py; a download counts as a view of the
    # analytics section, in the cache). No bell, no options.
    with django_assert_num_queries(PER_REQUEST + FIGURES + RESIDUAL + SLA_COMPLIANCE):
        response = client.get("/analytics/team.csv")
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["agent", "lead", "spoc", "admin"])
def test_kept_figures_cost_no_figure_query(persona, dataset, personas, warm,
                                           django_assert_num_queries):  # fmt: skip
    client = warm(getattr(personas, persona))
    client.get("/analytics", {"period": "90"})
    # Within ANALYTICS_CACHE_SECONDS the same scope, filters and period read the kept
    # figures and their drawn results (analytics/kept.py), and the filter fields are kept
    # rendered until master data changes (analytics/filter_fields.py): only the session
    # with its user remains.
    with django_assert_num_queries(PER_REQUEST):
        response = client.get("/analytics", {"period": "90"})
    assert response.status_code == 200
    with django_assert_num_queries(PER_REQUEST):
        assert client.get("/analytics/team.csv", {"period": "90"}).status_code == 200
