"""The dashboard per role: hand-checked figures, and every link shows exactly what it counts."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]


def figures_on(response) -> dict:
    return {f.key: f for _, group in response.context["sections"] for f in group}


def list_count(client, url: str) -> int:
    """How many tickets the ticket list shows for `url` (all on one page)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("per_page", "100")]
    response = client.get(parts.path, query)
    assert response.status_code == 200, url
    assert not response.context["next_query"], "more than one page: enlarge per_page"
    return len(response.context["tickets"])


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_figure_links_to_the_list_it_counts(persona, dataset, personas, client_for):
    client = client_for(getattr(personas, persona))
    response = client.get("/dashboard")
    assert response.status_code == 200
    shown = figures_on(response)
    assert shown, "every role has at least one figure"
    for figure in shown.values():
        if figure.url:
            assert list_count(client, figure.url) == figure.count, figure.key
    breakdown = response.context["breakdown"]
    for label, count, url in breakdown["rows"] if breakdown else []:
        if url:
            assert list_count(client, url) == count, label
    for _team, member, count, url in response.context["members"] or []:
        assert list_count(client, url) == count, member


def test_a_lead_sees_the_load_of_each_member_of_their_team(dataset, personas, client_for):
    members = client_for(personas.lead).get("/dashboard").context["members"]
    assert [(team, member, n) for team, member, n, _ in members] == [
        ("Team A", "Agent Persona", 2),
        ("Team A", "Lead Persona", 2),
    ]
    assert client_for(personas.agent).get("/dashboard").context["members"] is None


EXPECTED = {
    "requester": {"mine_open": 6, "mine_waiting": 0},
    "outsider": {"mine_open": 0, "mine_waiting": 0},
    "agent": {"assigned_open": 2, "team_open": 4, "team_unassigned": 0, "team_old": 1},
    "lead": {"assigned_open": 2, "team_open": 4, "team_unassigned": 0, "team_old": 1},
    "spoc": {"assigned_open": 0, "groups_unassigned": 0, "groups_nobody": 0, "groups_unmapped": 0},
    # Group Y's two tickets have no team: nobody able to act until someone routes them.
    "admin": {"org_open": 6, "org_unassigned": 2, "org_nobody": 2, "org_new": 2, "org_urgent": 0,
              "org_old": 2},
}  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_sees_its_own_figures(persona, dataset, personas, client_for):
    shown = figures_on(client_for(getattr(personas, persona)).get("/dashboard"))
    assert {key: shown[key].count for key in EXPECTED[persona]} == EXPECTED[persona]
    worker_keys = {"assigned_open", "team_open", "org_open", "groups_unassigned"}
    if persona in ("requester", "outsider"):
        assert not worker_keys & set(shown)
    if persona != "admin":
        assert not any(key.startswith("org_") for key in shown)


def test_spoc_sees_unassigned_and_unmapped_work_of_their_groups_only(
    dataset, personas, client_for, org
):
    # Give the SPOC group Y too: its two tickets have no team (unmapped) and nobody.
    org.group_y.spocs.add(personas.spoc)
    response = client_for(personas.spoc).get("/dashboard")
    shown = figures_on(response)
    assert (shown["groups_unassigned"].count, shown["groups_unmapped"].count) == (2, 2)
    # The figure is a link to the list's "no team" filter, showing exactly those two.
    assert "team=none" in shown["groups_unmapped"].url
    assert list_count(client_for(personas.spoc), shown["groups_unmapped"].url) == 2
    assert f'href="{shown["groups_unmapped"].url.replace("&", "&amp;")}"' in (
        response.content.decode()
    )
    rows = {label: count for label, count, _ in response.context["breakdown"]["rows"]}
    assert rows == {"Group X": 4, "Group Y": 2}


def test_requester_sees_their_recent_updates(dataset, personas, client_for):
    response = client_for(personas.requester).get("/dashboard")
    assert response.context["list_title"] == "Recently updated"
    assert len(response.context["list_tickets"]) == 5
    assert 'href="/tickets?view=mine"' in response.content.decode()


def test_agents_see_their_teams_oldest_open_tickets(dataset, personas, client_for):
    response = client_for(personas.agent).get("/dashboard")
    numbers = [t.number for t in response.context["list_tickets"]]
    # Oldest first by number (numbers follow creation): t3 t4 t5 t7 are the team's open ones.
    assert numbers == [dataset.t3.number, dataset.t4.number, dataset.t5.number, dataset.t7.number]


def test_dashboard_escapes_names(dataset, personas, client_for, org):
    org.team_a.name = "<script>alert(1)</script>"
    org.team_a.save()
    html = client_for(personas.admin).get("/dashboard").content.decode()
    assert "<script>alert(1)" not in html
    assert re.search(r"&lt;script&gt;alert\(1\)&lt;/script&gt;", html)


def test_waiting_with_nobody_able_to_act_counts_tickets_no_team_member_can_take(
    dataset, personas, client_for, org
):
    """Zero in a healthy organisation: every ticket routed to a staffed team, no holder
    whose account is gone. Each way to be stranded adds to it, and the link lists them."""
    from portal.catalog.models import ClassificationMapping, TeamMember
    from portal.tickets.models import Ticket

    admin = client_for(personas.admin)

    def shown() -> int:
        figure = figures_on(admin.get("/dashboard"))["org_nobody"]
        assert figure.url == "/tickets?view=waiting"
        assert list_count(admin, figure.url) == figure.count
        return figure.count

    # Healthy: group Y's two tickets go to a staffed team B.
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)
    ClassificationMapping.objects.create(category=org.payroll, team=org.team_b)
    Ticket.objects.filter(group=org.group_y).update(team=org.team_b)
    assert shown() == 0
    # Team B loses its only member (outside the service, so nothing is re-routed).
    TeamMember.objects.filter(team=org.team_b).update(is_active=False)
    assert shown() == 2
    # An open ticket held by a deactivated account: nobody is working it either.
    personas.agent.is_active = False
    personas.agent.save(update_fields=["is_active"])
    held = Ticket.objects.filter(assignee=personas.agent, status__in=["new", "in_progress"])
    assert shown() == 2 + held.count() > 2


def test_my_open_requests_are_counted_from_the_open_tickets_of_their_requester(
    dataset, org, personas, client_for
):
    """An agent's "my open requests" and "assigned to me" come from the two partial
    indexes of open tickets (by requester, by assignee): with only the second, PostgreSQL
    read every open ticket (15 ms at 1M tickets, with parallel workers)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    _many_tickets(org, personas)
    client = client_for(personas.agent)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard").status_code == 200
    [own] = [q["sql"] for q in queries.captured_queries if '"mine_open"' in q["sql"]]
    with connection.cursor() as cursor:
        # The test data is small enough for a sequential scan: ask whether the index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {own}")  # the portal's own statement, as it ran
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "ticket_open_by_requester" in plan, plan


@pytest.mark.parametrize("persona", ["agent", "lead", "admin"])
def test_the_oldest_open_tickets_are_read_from_the_open_tickets_by_id(
    dataset, org, personas, client_for, persona
):
    """The short list of workers (the first open tickets by id) walks the partial index of
    open tickets by id: walking the primary key skipped the closed tickets that fill the
    oldest ids (18,657 rows, 16.7 ms for a lead at 1M tickets; 0.1 ms with the index)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    _many_tickets(org, personas)
    client = client_for(getattr(personas, persona))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard").status_code == 200
    [short_list] = [
        q["sql"] for q in queries.captured_queries if q["sql"].rstrip().endswith("LIMIT 5")
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {short_list}")
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "ticket_open_id" in plan, plan


def _many_tickets(org, personas) -> None:
    """Closed tickets holding the oldest ids (some raised by the agent), then open ones in
    team A and in team B (of other people), analysed: enough for the planner to weigh the
    indexes as it does at scale rather than between a few rows (written directly: only
    plans are asked about)."""
    from django.db import connection

    from portal.tickets.models import Status, Ticket

    def made(count: int, status: str, team, requester=personas.outsider) -> list:
        return [
            Ticket(
                title="Bulk", description="Bulk.", requester=requester,
                group=org.group_x, category=org.hardware, status=status, team=team,
            )
            for _ in range(count)
        ]  # fmt: skip

    Ticket.objects.bulk_create(made(10000, Status.CLOSED, org.team_a))
    Ticket.objects.bulk_create(made(300, Status.CLOSED, org.team_b, personas.agent))
    opened = made(2500, Status.NEW, org.team_a) + made(2500, Status.NEW, org.team_b)
    Ticket.objects.bulk_create(opened)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
