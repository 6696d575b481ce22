"""The rollup stays exact: random sequences of real service calls, then every rollup row
is compared with a rebuild from scratch (GROUP BY over tickets and history), and every
figure of the page (rollup path) with the direct count over the tickets (figures.compute).

The clock moves forward by a random few hours before each call (services read
`timezone.now()`), so tickets are raised, resolved and reopened on different days and
the age buckets' boundary days are exercised.
"""

import datetime as dt
import importlib
import random

import pytest
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from portal.accounts.roles import user_roles
from portal.analytics import figures, rollup, scoped
from portal.analytics.dashboard import dashboard_context
from portal.analytics.dashboard_figures import specs
from portal.analytics.models import KEY, TicketCount
from portal.analytics.period import Period
from portal.analytics.views import work_tickets
from portal.catalog.models import Priority, TeamMember
from portal.tickets import services
from portal.tickets.access import visible_tickets
from portal.tickets.errors import TicketError
from portal.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def rollup_table() -> dict:
    rows = TicketCount.objects.exclude(n=0).values_list(*KEY, "n")
    return {tuple(row[:-1]): row[-1] for row in rows}


@pytest.fixture
def clock(monkeypatch):
    """A settable `timezone.now()`, starting 40 days ago."""
    state = {"now": timezone.now() - dt.timedelta(days=40)}
    monkeypatch.setattr(timezone, "now", lambda: state["now"])
    return state


def play(rng: random.Random, steps: int, personas, org, clock) -> None:
    """Apply `steps` random service calls; refusals are part of the game."""
    # Group Y gets a member so moving a ticket there assigns someone.
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)
    classes = [
        (org.group_x, org.hardware, org.laptop), (org.group_x, org.hardware, org.printer),
        (org.group_x, org.hardware, None), (org.group_y, org.payroll, None),
    ]  # fmt: skip
    people = [personas.admin, personas.lead, personas.agent, personas.spoc, personas.requester]
    for _ in range(steps):
        clock["now"] += dt.timedelta(hours=rng.uniform(0, 30))
        tickets = list(Ticket.objects.order_by("pk"))
        action = rng.choice(["create"] * 3 + ["status"] * 5 + ["take", "assign", "move",
                            "edit", "comment", "comment"])  # fmt: skip
        if action == "create" or not tickets:
            group, category, subcategory = rng.choice(classes)
            services.ticket_create(
                requester=rng.choice([personas.requester, personas.agent]), title="Random",
                description="x", group=group, category=category, subcategory=subcategory,
                priority=rng.choice(["", *Priority.values]),
            )  # fmt: skip
            continue
        ticket = rng.choice(tickets)
        actor = rng.choice(people)
        try:
            if action == "status":
                target = rng.choice([s for s in Status.values if s != ticket.status])
                services.ticket_change_status(actor=actor, ticket=ticket, status=target)
            elif action == "take":
                services.ticket_take(actor=rng.choice([personas.agent, personas.lead]),
                                     ticket=ticket)  # fmt: skip
            elif action == "assign":
                assignee = rng.choice([None, personas.agent, personas.lead, personas.outsider])
                services.ticket_assign(actor=personas.admin, ticket=ticket, assignee=assignee)
            elif action == "move":
                team = org.team_b if ticket.team_id == org.team_a.pk else org.team_a
                services.ticket_move_team(actor=personas.admin, ticket=ticket, team=team,
                                          reason="Random move.")  # fmt: skip
            elif action == "edit":
                _, category, subcategory = rng.choice(classes)
                services.ticket_update(
                    actor=personas.admin, ticket=ticket, expected_version=ticket.version,
                    priority=rng.choice(Priority.values), category=category,
                    subcategory=subcategory,
                )  # fmt: skip
            else:
                services.comment_add(actor=rng.choice([personas.requester, personas.agent]),
                                     ticket=ticket, body="Random comment.")  # fmt: skip
        except (TicketError, Http404):
            pass  # not allowed now: nothing was written


def spec_conditions(user) -> dict:
    """Each dashboard figure's condition on tickets (what the ticket list link shows)."""
    roles = user_roles(user)
    return {
        spec.key: spec.condition
        for _, group in specs(user, roles, timezone.localdate())
        for spec in group
    }


def comparable(result: figures.Figures) -> dict:
    return {
        "created": result.created, "resolved": result.resolved, "open": result.open,
        "age": result.age,
        "breakdowns": {k: sorted((key, n) for key, _, n in rows)
                       for k, rows in result.breakdowns.items()},
        "created_by_day": result.created_by_day, "resolved_by_day": result.resolved_by_day,
        "teams": sorted((r["key"], r["open"], r["unassigned"], r["resolved"])
                        for r in result.teams),
        "agents": sorted((r["key"], r["open"], r["resolved"]) for r in result.agents),
        "resolutions": result.resolutions, "reopens": result.reopens,
        "first_response": {k: pytest.approx(v) for k, v in result.first_response.items()},
        "resolution": {k: pytest.approx(v) for k, v in result.resolution.items()},
    }  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_equals_a_rebuild_and_the_direct_counts_after_random_changes(
    seed, personas, org, clock
):
    rng = random.Random(seed)
    play(rng, 200, personas, org, clock)
    incremental = rollup_table()
    assert sum(n for key, n in incremental.items() if key[0] == "c") == Ticket.objects.count()
    rollup.rebuild()
    assert rollup_table() == incremental

    now = clock["now"]
    for persona in ("admin", "spoc", "lead", "agent", "requester"):
        user = getattr(personas, persona)
        context = dashboard_context(user)
        visible = visible_tickets(user)
        specs = spec_conditions(user)
        for _, shown in context["sections"]:
            for figure in shown:
                spec = specs[figure.key]
                assert figure.count == visible.filter(spec).count(), (persona, figure.key)
    today = timezone.localdate(now)
    for days in (7, 30, 90):
        period = Period(today - dt.timedelta(days=days - 1), today)
        for persona in ("admin", "spoc", "lead", "agent"):
            user = getattr(personas, persona)
            for filters in (
                scoped.Filters(),
                scoped.Filters(priority=Priority.HIGH),
                scoped.Filters(group_id=org.group_x.pk, category_id=org.hardware.pk),
                scoped.Filters(team_id=org.team_b.pk),
            ):
                condition = Q(**dict(filters.items()))
                direct = figures.compute(work_tickets(user).filter(condition), period, now=now)
                fast = figures.compute_for(user, filters, period, now=now)
                assert comparable(fast) == comparable(direct), (persona, days, filters)


def test_an_admin_who_leads_a_team_sees_exact_organisation_team_and_member_figures(
    personas, org, clock
):
    """An admin's organisation figures and breakdown sum the open rows per team (measure
    "t"); their own team's figures and members the open rows: all equal direct counts."""
    from portal.accounts.models import User
    from portal.tickets.models import OPEN_STATUSES

    play(random.Random(4), 120, personas, org, clock)
    TeamMember.objects.create(team=org.team_a, user=personas.admin, role=TeamMember.Role.LEAD)
    admin = User.objects.get(pk=personas.admin.pk)
    assert user_roles(admin).is_lead
    context = dashboard_context(admin)
    visible, conditions = visible_tickets(admin), spec_conditions(admin)
    shown = {figure.key: figure.count for _, group in context["sections"] for figure in group}
    assert {"org_open", "org_old", "team_open", "team_old"} <= set(shown)
    for key, count in shown.items():
        assert count == visible.filter(conditions[key]).count(), key
    opened = Ticket.objects.filter(status__in=OPEN_STATUSES)
    for name, count, _url in context["breakdown"]["rows"]:
        team = Q(team__isnull=True) if name == "No team (unmapped)" else Q(team__name=name)
        assert count == opened.filter(team).count(), name
    assert sum(count for _, count, _url in context["breakdown"]["rows"]) == opened.count()
    members = context["members"]
    assert members and sum(row[2] for row in members) == opened.filter(team=org.team_a).count()


def test_an_agents_ticket_outside_their_teams_is_counted_once(personas, org, clock):
    """The residual (assigned to me, outside my teams) is added to the rollup part."""
    TeamMember.objects.create(team=org.team_b, user=personas.agent)
    ticket = services.ticket_create(
        requester=personas.requester, title="Pay", description="x", group=org.group_y,
        category=org.payroll,
    )  # fmt: skip
    services.ticket_move_team(actor=personas.admin, ticket=ticket, team=org.team_b, reason="B.")
    ticket.refresh_from_db()
    assert ticket.assignee_id == personas.agent.pk  # routing picked the only member
    # The agent leaves team B: the ticket stays theirs, outside their teams.
    TeamMember.objects.filter(team=org.team_b, user=personas.agent).delete()
    today = timezone.localdate(clock["now"])
    period = Period(today - dt.timedelta(days=6), today)
    fast = figures.compute_for(personas.agent, scoped.Filters(), period, now=clock["now"])
    direct = figures.compute(work_tickets(personas.agent), period, now=clock["now"])
    assert fast.created == direct.created == 1
    assert comparable(fast) == comparable(direct)


def test_a_change_rolled_back_leaves_the_rollup_unchanged(personas, org, clock):
    from django.db import transaction

    services.ticket_create(
        requester=personas.requester, title="One", description="x", group=org.group_x,
        category=org.hardware,
    )  # fmt: skip
    before = rollup_table()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_create(
            requester=personas.requester, title="Two", description="x", group=org.group_x,
            category=org.hardware,
        )  # fmt: skip
        raise RuntimeError("the request failed after the change")
    assert rollup_table() == before


def test_the_rebuild_command_reports_the_rows(personas, org, clock, capsys):
    from django.core.management import call_command

    services.ticket_create(
        requester=personas.requester, title="One", description="x", group=org.group_x,
        category=org.hardware,
    )  # fmt: skip
    before = rollup_table()
    call_command("analytics_rollup")
    assert "Analytics rollup rebuilt" in capsys.readouterr().out
    assert rollup_table() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_add_up_exactly(personas, org):
    """Two threads raise and resolve tickets in the same rollup rows at the same time: the
    upserts (n = n + excluded.n) serialise on the row, nothing is lost or doubled."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs concurrently")
    barrier = threading.Barrier(2)
    errors = []

    def work():
        try:
            barrier.wait(timeout=10)
            for _ in range(8):
                ticket = services.ticket_create(
                    requester=personas.requester, title="Same row", description="x",
                    group=org.group_x, category=org.hardware, subcategory=org.laptop,
                    priority=Priority.HIGH,
                )  # fmt: skip
                services.ticket_change_status(
                    actor=personas.admin, ticket=ticket, status=Status.RESOLVED
                )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    incremental = rollup_table()
    created = sum(n for key, n in incremental.items() if key[0] == TicketCount.Measure.CREATED)
    resolutions = sum(
        n for key, n in incremental.items() if key[0] == TicketCount.Measure.RESOLUTIONS
    )
    assert (created, resolutions) == (16, 16)
    rollup.rebuild()
    assert rollup_table() == incremental


def test_the_migration_derives_the_per_team_rows_the_services_keep(personas, org, clock):
    """Migration 0003 fills measure "t" from the open rows already there: after random
    changes it must write exactly the rows the services maintained one change at a time."""
    from django.db import connection

    fill = importlib.import_module("portal.analytics.migrations.0003_open_per_team").fill
    play(random.Random(7), 120, personas, org, clock)
    kept = {key: n for key, n in rollup_table().items() if key[0] == "t"}
    assert kept  # the play left open tickets in several teams
    TicketCount.objects.filter(measure="t").delete()

    class Editor:  # what `fill` uses of a schema editor (SQLite's cannot open in a test)
        def __init__(self):
            self.connection = connection

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    fill(None, Editor())
    assert {key: n for key, n in rollup_table().items() if key[0] == "t"} == kept
