"""Service levels on tickets: targets stored on creation, the clock paused while On hold,
recomputed (with history) on priority and classification changes, cleared on cancel,
recomputed in bulk when definitions change; list filter, sort and badges; ticket page."""

import pytest
from django.utils import timezone

from portal.sla import services as sla_services
from portal.sla.clock import SlaState
from portal.sla.models import SlaPolicy
from portal.tickets import services, sla, sla_jobs
from portal.tickets.models import OPEN_STATUSES, Status, Ticket, TicketEvent
from portal.tickets.tests.sla_fixtures import T0, H, always_open, clock_at, policy_fields

pytestmark = pytest.mark.django_db
always_open = always_open  # the fixture, imported for this module


def raise_at(raise_ticket, instant=T0, **extra):
    with clock_at(instant):
        return raise_ticket(**extra)


def test_a_new_ticket_stores_both_targets_from_the_policy(always_open, raise_ticket):
    ticket = raise_at(raise_ticket, priority="medium")
    ticket.refresh_from_db()
    assert ticket.sla_policy_name == "Standard"
    assert ticket.sla_response_due_at == T0 + 4 * H
    assert ticket.sla_response_at_risk_at == T0 + 4 * H * 4 / 5
    assert ticket.sla_resolution_due_at == T0 + 20 * H
    assert ticket.sla_resolution_at_risk_at == T0 + 16 * H


def test_without_a_policy_a_ticket_has_no_sla_and_says_so(raise_ticket, client_for, personas):
    ticket = raise_at(raise_ticket)
    assert ticket.sla_policy_name == ""
    assert ticket.sla_resolution_due_at is None
    page = client_for(personas.requester).get(ticket.get_absolute_url())
    assert "No SLA applies" in page.content.decode()


def test_on_hold_time_never_counts(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket, priority="medium")
    with clock_at(T0 + H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.ON_HOLD)
    ticket.refresh_from_db()
    # Paused short of 80 %: no due time while waiting, the state says paused.
    assert ticket.sla_paused_at == T0 + H
    assert ticket.sla_resolution_due_at is None
    assert sla.ticket_state(ticket, T0 + 30 * H) == SlaState.PAUSED
    # The requester answers three hours later: the clock resumes, those hours do not count.
    with clock_at(T0 + 4 * H):
        services.comment_add(actor=personas.requester, ticket=ticket, body="Here it is.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.sla_paused_at is None
    assert ticket.sla_resolution_due_at == T0 + 20 * H + 3 * H
    assert ticket.sla_resolution_at_risk_at == T0 + 16 * H + 3 * H
    # A second hold (moved out by an agent this time) adds its own length, no more.
    with clock_at(T0 + 5 * H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.ON_HOLD)
    with clock_at(T0 + 7 * H):
        services.ticket_change_status(
            actor=personas.admin, ticket=ticket, status=Status.IN_PROGRESS
        )
    ticket.refresh_from_db()
    assert ticket.sla_resolution_due_at == T0 + 20 * H + 5 * H
    assert len(ticket.sla_pauses) == 2


def test_an_on_hold_tickets_page_says_paused_once_per_target(
    always_open, raise_ticket, personas, client_for
):
    import re

    ticket = raise_at(raise_ticket, priority="medium")
    with clock_at(T0 + H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.ON_HOLD)
    with clock_at(T0 + 2 * H):
        html = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    cells = re.findall(r'<dd data-sla-target="resolution">(.*?)</dd>', html, re.S)
    assert len(cells) == 1
    text = re.sub(r"<[^>]+>", "", cells[0]).strip()
    assert text == "Paused"


def test_a_hold_after_the_due_time_does_not_undo_the_breach(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket, priority="urgent")  # resolution 4 h
    with clock_at(T0 + 5 * H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.ON_HOLD)
    ticket.refresh_from_db()
    assert ticket.sla_resolution_due_at == T0 + 4 * H
    assert sla.ticket_state(ticket, T0 + 6 * H) == SlaState.BREACHED


def test_priority_change_recomputes_and_the_history_says_so(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket, priority="medium")
    with clock_at(T0 + H):
        services.ticket_update(
            actor=personas.admin, ticket=ticket, expected_version=ticket.version, priority="urgent"
        )
    ticket.refresh_from_db()
    assert ticket.sla_resolution_due_at == T0 + 4 * H
    events = {
        event.field: event
        for event in TicketEvent.objects.filter(ticket=ticket, field__endswith=" due")
    }
    assert set(events) == {"first response due", "resolution due"}
    resolution = events["resolution due"]
    assert resolution.old_value == "2026-03-03 05:00 (Standard)"
    assert resolution.new_value == "2026-03-02 13:00 (Standard)"


def test_classification_change_applies_the_category_override(
    always_open, raise_ticket, personas, org
):
    ticket = raise_at(raise_ticket, priority="medium", group=org.group_y, category=org.payroll,
                      subcategory=None)  # fmt: skip
    fast = {p: (H / 2, 2 * H) for p in ("urgent", "high", "medium", "low")}
    sla_services.policy_save(
        policy=SlaPolicy(
            name="Hardware fast", calendar=always_open.calendar, category=org.hardware,
            **policy_fields(fast),
        )
    )  # fmt: skip
    with clock_at(T0 + H / 4):
        services.ticket_update(
            actor=personas.admin, ticket=ticket, expected_version=ticket.version,
            category=org.hardware, subcategory=org.laptop,
        )  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.sla_policy_name == "Hardware fast"
    assert ticket.sla_resolution_due_at == T0 + 2 * H
    event = TicketEvent.objects.get(ticket=ticket, field="resolution due")
    assert event.new_value.endswith("(Hardware fast)")


def test_first_response_and_resolution_are_met(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket, priority="medium")
    with clock_at(T0 + H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.RESOLVED)
    ticket.refresh_from_db()
    views = {view.target.key: view.state for view in sla.target_views(ticket, T0 + 99 * H)}
    assert views == {"response": SlaState.MET, "resolution": SlaState.MET}


def test_late_response_counts_as_breached_even_once_given(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket, priority="urgent")  # response 1 h
    with clock_at(T0 + 2 * H):
        services.comment_add(actor=personas.admin, ticket=ticket, body="Looking now.")
    ticket.refresh_from_db()
    assert sla.ticket_state(ticket, T0 + 2 * H) == SlaState.BREACHED


def test_cancelling_clears_the_targets(always_open, raise_ticket, personas):
    ticket = raise_at(raise_ticket)
    with clock_at(T0 + H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.CANCELLED)
    ticket.refresh_from_db()
    assert ticket.sla_policy_name == ""
    assert ticket.sla_response_due_at is None and ticket.sla_resolution_due_at is None
    assert sla.ticket_state(ticket) is None


def test_definition_change_enqueues_a_recompute_and_it_updates_open_tickets(
    always_open, raise_ticket, django_capture_on_commit_callbacks
):
    open_ticket = raise_at(raise_ticket, priority="medium")
    always_open.medium_resolution = 10 * H
    with django_capture_on_commit_callbacks(execute=True):
        sla_services.policy_save(policy=always_open)
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path="portal.tickets.tasks.recompute_sla").exists()
    assert sla_jobs.recompute_open() == 1
    open_ticket.refresh_from_db()
    assert open_ticket.sla_resolution_due_at == T0 + 10 * H
    assert sla_jobs.recompute_open() == 0  # idempotent


# --- Lists and the ticket page -----------------------------------------------------------


@pytest.fixture
def three_states(always_open, raise_ticket, personas):
    """At T0 + 17 h: a medium ticket at risk (16 h), an urgent one breached (4 h), a low one
    on track (40 h); all answered at once so only the resolution clock runs."""
    tickets = {}
    for name, priority in (("risky", "medium"), ("late", "urgent"), ("calm", "low")):
        ticket = raise_at(raise_ticket, priority=priority, title=name)
        with clock_at(T0):
            services.comment_add(actor=personas.admin, ticket=ticket, body="On it.")
        tickets[name] = ticket
    return tickets


def _titles(client, query):
    with clock_at(T0 + 17 * H):
        response = client.get(f"/tickets?{query}")
    assert response.status_code == 200
    return [ticket.title for ticket in response.context["tickets"]]


def test_the_list_filters_by_sla_state(three_states, client_for, personas):
    client = client_for(personas.admin)
    assert _titles(client, "sla_state=breached") == ["late"]
    assert _titles(client, "sla_state=at_risk") == ["risky"]
    assert _titles(client, "sla_state=on_track") == ["calm"]
    assert sorted(_titles(client, "sla_state=at_risk&sla_state=breached")) == ["late", "risky"]
    assert _titles(client, "sla_state=met") == []


def test_the_list_sorts_by_due_time_and_pages_through_it(three_states, client_for, personas):
    client = client_for(personas.admin)
    assert _titles(client, "sort=sla_due") == ["late", "risky", "calm"]
    with clock_at(T0 + 17 * H):
        first = client.get("/tickets?sort=sla_due&per_page=25")
    assert "sla-breached" in first.content.decode()
    # The cell: the next due time (local, day and time) and the worse target's badge.
    late = Ticket.objects.get(pk=three_states["late"].pk)
    due = timezone.localtime(sla.next_due(late))
    assert (
        f'<td data-label="SLA due"><time datetime="{due.isoformat()}">{due:%-d %b %H:%M}</time> '
        '<span class="sla sla-breached">Breached</span>'
    ) in first.content.decode()


def test_an_unknown_sla_state_is_a_400(client_for, personas):
    assert client_for(personas.admin).get("/tickets?sla_state=late").status_code == 400


def test_the_ticket_page_shows_both_due_times_with_their_badges(three_states, client_for, personas):
    ticket = three_states["late"]
    with clock_at(T0 + 17 * H):
        page = client_for(personas.requester).get(ticket.get_absolute_url()).content.decode()
    assert "First response due" in page and "Resolution due" in page
    assert '<span class="sla sla-met">Met</span>' in page
    assert '<span class="sla sla-breached">Breached</span>' in page


def test_resolving_and_closing_keep_the_due_times(always_open, raise_ticket, personas):
    on_time = raise_at(raise_ticket, priority="urgent", title="on time")  # resolution 4 h
    late = raise_at(raise_ticket, priority="urgent", title="late")
    for ticket, resolved in ((on_time, T0 + 3 * H), (late, T0 + 5 * H)):
        with clock_at(resolved):
            services.ticket_change_status(
                actor=personas.admin, ticket=ticket, status=Status.RESOLVED
            )
        with clock_at(resolved + H):
            services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.CLOSED)
        ticket.refresh_from_db()
        assert ticket.sla_resolution_due_at == T0 + 4 * H

    def resolution(ticket):
        return {v.target.key: v.state for v in sla.target_views(ticket, T0 + 99 * H)}["resolution"]

    assert resolution(on_time) == SlaState.MET
    assert resolution(late) == SlaState.BREACHED


def test_a_reopened_ticket_does_not_count_the_time_it_sat_resolved(
    always_open, raise_ticket, personas
):
    ticket = raise_at(raise_ticket, priority="medium")  # resolution 20 h
    with clock_at(T0 + 2 * H):
        services.ticket_change_status(actor=personas.admin, ticket=ticket, status=Status.RESOLVED)
    with clock_at(T0 + 12 * H):
        services.ticket_change_status(
            actor=personas.admin, ticket=ticket, status=Status.IN_PROGRESS
        )
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    assert ticket.sla_resolution_due_at == T0 + 30 * H


def test_demo_tickets_get_targets_from_their_backdated_creation_and_no_flood(monkeypatch):
    from portal.catalog import demo as catalog_demo
    from portal.core.demo import load_demo_users
    from portal.sla import demo as sla_demo
    from portal.tickets import demo

    users = {user.email: user for user in load_demo_users()}
    catalog_demo.load(users)
    sla_demo.load(users)
    monkeypatch.setattr(demo, "COUNT", 40)
    demo.load(users)
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, sla_policy_name__gt="")
    assert open_tickets.exists()
    for ticket in open_tickets:
        if ticket.sla_resolution_due_at is not None:  # None: on hold short of 80 %
            assert ticket.sla_resolution_due_at > ticket.created_at
    # Lines crossed while the demo "happened" count as told: the first run tells nobody.
    assert sla_jobs.escalate() == {"at_risk": 0, "breached": 0}


@pytest.mark.parametrize("count", [2, 12])
def test_sla_filter_and_sort_cost_no_extra_query(always_open, raise_ticket, client_for, personas,
                                                 count):  # fmt: skip
    """The state filter and the due sort are parts of the one page query (a CASE in its
    WHERE and ORDER BY), and the badges read stored columns: the list costs what the plain
    list costs (pinned, with the queries named, in test_query_counts.py), at any size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(count):
        raise_ticket(title=f"t{index}")  # now: on track, so every list below shows them all
    client = client_for(personas.admin)
    client.get("/tickets/new")  # the once-a-minute session refresh, not counted

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/tickets?{query}").status_code == 200
        return len(captured)

    queries("view=all")  # warms the cached filter options and roles
    plain = queries("view=all")
    assert len(client.get("/tickets?view=all&sla_state=on_track").context["tickets"]) == count
    assert queries("view=all&sla_state=on_track&sla_state=at_risk&sort=sla_due") == plain
    assert queries("view=all&sort=sla_due&per_page=50") == plain
