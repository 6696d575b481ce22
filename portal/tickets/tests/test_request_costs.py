"""What every page pays besides its own work: the session with its user, one statement.

Roles, the bell's unread count and the list's filter options come from the cache, and the
page-view counter writes once a minute (portal/analytics/tracking.py). These tests pin
the budget of each page on a warm request and check that each cached value follows the
change it depends on at the very next request.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.catalog import services as catalog_services
from portal.catalog.models import TeamMember
from portal.notifications import services as notification_services
from portal.testing.notices import deliver_pending

pytestmark = pytest.mark.django_db

# The fixed costs every page used to pay: the person's SPOC groups and team memberships
# (roles), the bell's unread count and the page-view counter.
FIXED_COSTS = (
    'SELECT "catalog_businessunitgroup"."id" AS "id" FROM "catalog_businessunitgroup" INNER',
    'SELECT "catalog_teammember"."team_id" AS "team_id", "catalog_teammember"."role"',
    'SELECT COUNT(*) AS "__count" FROM "notifications_notification"',
    "analytics_pageview",
)


def _views(client) -> list[str]:
    return [key for key, _, _ in client.get("/tickets").context["views"]]


def _bell(html: str) -> int:
    return int(re.search(r"Notifications: (\d+) unread", html).group(1))


def test_a_new_team_membership_shows_on_the_next_request(personas, org, client_for):
    client = client_for(personas.requester)
    assert _views(client) == ["all", "mine", "watching"]
    catalog_services.team_member_add(team=org.team_a, user=personas.requester)
    assert _views(client) == ["all", "mine", "watching", "assigned", "team"]


def test_a_membership_ended_shows_on_the_next_request(personas, org, client_for):
    client = client_for(personas.agent)
    assert "team" in _views(client)
    member = TeamMember.objects.get(team=org.team_a, user=personas.agent)
    catalog_services.team_member_deactivate(member=member)
    assert _views(client) == ["all", "mine", "watching"]


def test_a_new_spoc_shows_on_the_next_request(personas, org, client_for):
    client = client_for(personas.requester)
    assert "unassigned" not in _views(client)
    org.group_x.spocs.add(personas.requester)
    assert "unassigned" in _views(client)


def test_a_new_notification_shows_in_the_bell_on_the_next_request(
    raise_ticket, personas, client_for
):
    client = client_for(personas.agent)
    assert _bell(client.get("/dashboard").content.decode()) == 0
    raise_ticket()  # routed to team A: assigned to the agent, who is told
    deliver_pending()  # by the worker, within seconds: the bell's cached count is dropped
    assert _bell(client.get("/dashboard").content.decode()) == 1
    notification_services.notifications_mark_all_read(user=personas.agent)
    assert _bell(client.get("/dashboard").content.decode()) == 0


def test_the_filter_options_follow_master_data(personas, org, client_for):
    client = client_for(personas.admin)
    assert ">Team A</option>" in client.get("/tickets").content.decode()
    catalog_services.team_update(team=org.team_a, name="Team Alpha", email="")
    html = client.get("/tickets").content.decode()
    assert ">Team Alpha</option>" in html and ">Team A</option>" not in html


def test_renamed_master_data_shows_in_the_rows_and_the_ticket_page(
    ticket, personas, org, client_for
):
    """The rows' group, category, subcategory and team come from the cache (by id, under
    the master-data version): a rename shows on the very next list and ticket page."""
    client = client_for(personas.admin)
    assert f"{org.group_x.name} / {org.hardware.name}" in client.get("/tickets").content.decode()
    client.get(ticket.get_absolute_url())
    catalog_services.team_update(team=org.team_a, name="Team Alpha", email="")
    catalog_services.group_update(
        group=org.group_x, name="Group Xenon", code="X", spocs=org.group_x.spocs.all()
    )
    rows = client.get("/tickets").content.decode()
    assert '<td data-label="Team">Team Alpha</td>' in rows
    assert f"Group Xenon / {org.hardware.name}" in rows
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Team Alpha" in page and "Group Xenon" in page
    assert "Team A<" not in page


def test_a_chosen_filter_is_shown_selected(personas, org, client_for):
    """A filter with a value is rendered for the request, not taken from the cache."""
    client = client_for(personas.admin)
    client.get("/tickets")
    html = client.get("/tickets", {"team": org.team_a.pk}).content.decode()
    assert re.search(rf'<option value="{org.team_a.pk}" selected>Team A</option>', html)


# ---------------------------------------------------------------------------------------
# Budgets on a warm request (the person's second)


def _warm_queries(client, path: str) -> list[str]:
    client.get(path)  # roles, bell and filter options now in the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def _fixed(statements: list[str]) -> list[str]:
    return [s for s in statements if any(cost in s for cost in FIXED_COSTS)]


def _new_ticket_form(org) -> dict:
    return {
        "title": "Dock flickers",
        "description": "Since this morning.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.laptop.pk,
        "priority": "",
        "idempotency_key": str(uuid.uuid4()),
    }


# (page, path, statements on a warm request, the admin's). Each begins with the
# session with its user joined (one statement, was two); the rest is the page's own work.
PAGES = [
    # the page of tickets (its rows' group, category, subcategory and team from the cache)
    ("list", "/tickets", 1 + 1),
    # the page's matching ids (one UNION statement) + the page
    ("search", "/tickets?q=laptop", 1 + 1 + 1),
    # ticket (its classification and team from the cache; with whether the viewer watches
    # it and whether it has files, related or linked tickets, ratings or emails, none
    # here: tickets.page_facts), comments, history; the admin's assignable people and the
    # teams to move it to come from the cache (were 11: files, rating, links, related
    # tickets, emails and the assignable people, each a statement)
    ("ticket page", "TICKET", 1 + 1 + 2),
    # own open tickets, tickets waiting with nobody able to act, the teams' workload from
    # the rollup, their names, and the recent list
    ("dashboard", "/dashboard", 1 + 5),
]


@pytest.mark.parametrize(("page", "path", "expected"), PAGES)
def test_a_warm_page_pays_only_the_session_and_the_user_beyond_its_own_work(
    page, path, expected, raise_ticket, personas, client_for
):
    ticket = raise_ticket(title="Laptop hinge")
    client = client_for(personas.admin)
    path = f"/tickets/{ticket.number}" if path == "TICKET" else path
    statements = _warm_queries(client, path)
    assert _fixed(statements) == []
    assert "django_session" in statements[0] and "accounts_user" in statements[0]
    assert not any(s.startswith('SELECT "accounts_user"') for s in statements[1:])
    assert len(statements) == expected


def test_creating_a_ticket_pays_only_the_session_and_the_user_beyond_its_own_work(
    personas, org, client_for
):
    client = client_for(personas.requester)
    client.get("/tickets/new")
    # The first ticket of this classification reads its mapping, request form, approval
    # rules and SLA policy, which stay cached until master data changes.
    client.post("/tickets/new", _new_ticket_form(org))
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/tickets/new", _new_ticket_form(org))
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert _fixed(statements) == []
    # The session with its user, then the creation's own: the transaction (its opening and closing
    # statements), the team's load with the members' accounts (routing; the assignee is
    # not read again), the ticket, its history and the analytics counter, then
    # the three notifications (assignee, SPOCs, requester) together: one pending notice
    # (the worker's pump writes the rows, reads the preferences and queues the mail).
    # Whether the form was sent before is asked by the ticket's INSERT itself (written
    # unless the key is held: no read first, and a resend takes no ticket number). The
    # group, category and subcategory chosen, mapping, request form, approval rules, SLA
    # policy, webhooks and the group's SPOCs come from the cache, and no savepoint is
    # taken (35 → 13 → 11 → 10; 9 since the user is read with the session; 8 since the
    # INSERT asks about the key).
    assert len(statements) == 8
    [insert] = [s for s in statements if s.startswith('INSERT INTO "tickets_ticket"')]
    assert "NOT EXISTS" in insert


def test_commenting_pays_only_the_session_and_the_user_beyond_its_own_work(
    raise_ticket, personas, client_for
):
    ticket = raise_ticket()
    client = client_for(personas.agent)
    client.get(f"/tickets/{ticket.number}")
    with CaptureQueriesContext(connection) as queries:
        # As the page's form sends it: with its idempotency key.
        response = client.post(
            f"/tickets/{ticket.number}/comments",
            {"body": "Checked.", "idempotency_key": str(uuid.uuid4())},
        )
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert _fixed(statements) == []
    # The session with its user, then the comment's own: the ticket, read once, locked, by the
    # service (the action no longer reads it first), in one transaction with no savepoint;
    # the comment (a resend is the key's unique index's answer, not a read first), the
    # ticket's update, the history event, the watchers, the pending notice (the worker's
    # pump writes the notification and the delivery); the webhooks and the email's
    # summary (group, category, team) come from the cache (22 → 13 → 11 → 10 → 9).
    assert len(statements) == 9
