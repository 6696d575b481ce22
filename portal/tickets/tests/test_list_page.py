"""The list's page through statements compiled once per shape (portal/tickets/list_page.py)
reads exactly the rows the ORM's queryset reads: for every persona, saved view, filter,
sort, cursor and search, in one process that keeps each shape's statement between people.
"""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from portal.lib import keyset
from portal.tickets import list_page, services
from portal.tickets.filters import SORTS, TicketFilter, available_views
from portal.tickets.models import Priority, Status, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]  # also on SQLite in CI


@pytest.fixture
def tickets(personas, org, raise_ticket, watcher):
    """A dozen tickets of two groups and teams, requesters, assignees, statuses,
    priorities, public and internal comments, a watched one."""
    made = []
    for n, (who, group, category, sub, priority, title) in enumerate(
        [
            ("requester", org.group_x, org.hardware, org.laptop, Priority.HIGH, "Laptop fan"),
            ("requester", org.group_x, org.hardware, org.printer, Priority.URGENT, "Printer"),
            ("requester", org.group_x, org.hardware, None, Priority.LOW, "Dock flickers"),
            ("requester", org.group_y, org.payroll, None, Priority.MEDIUM, "Payslip missing"),
            ("outsider", org.group_x, org.hardware, org.printer, Priority.HIGH, "Printer jam"),
            ("outsider", org.group_x, org.hardware, org.laptop, Priority.MEDIUM, "Laptop"),
            ("outsider", org.group_y, org.payroll, None, Priority.URGENT, "Overtime"),
            ("agent", org.group_x, org.hardware, org.printer, Priority.LOW, "Toner printer"),
            ("lead", org.group_y, org.payroll, None, Priority.HIGH, "Bonus"),
            ("spoc", org.group_x, org.hardware, None, Priority.MEDIUM, "Screen"),
        ]
    ):
        made.append(
            raise_ticket(
                requester=getattr(personas, who),
                group=group,
                category=category,
                subcategory=sub,
                priority=priority,
                title=title,
                description=f"Ticket {n} of the list's fixture.",
            )
        )
    # Routing hands group X's tickets to team A's agent; some are moved or let go.
    services.ticket_assign(actor=personas.admin, ticket=made[1], assignee=personas.lead)
    for n in (2, 7):
        services.ticket_assign(actor=personas.admin, ticket=made[n], assignee=None)
    services.ticket_change_status(actor=personas.agent, ticket=made[4], status=Status.ON_HOLD)
    services.ticket_change_status(actor=personas.admin, ticket=made[3], status=Status.RESOLVED)
    services.comment_add(actor=personas.agent, ticket=made[5], body="zebra crossing", internal=True)
    services.comment_add(actor=personas.agent, ticket=made[2], body="giraffe sighted")
    made[5].watchers.add(personas.requester)
    return made


def _queries(org, personas, sample: Ticket) -> list[list[tuple[str, str]]]:
    today = timezone.localdate().isoformat()
    filters = [
        [],
        [("status", "new"), ("status", "in_progress")],
        [("status", "on_hold")],
        [("status", "new"), ("status", "new"), ("status", "on_hold")],
        [("priority", "high"), ("priority", "urgent")],
        [("group", str(org.group_x.pk))],
        [("group", str(org.group_x.pk)), ("category", str(org.hardware.pk))],
        [
            ("group", str(org.group_x.pk)),
            ("category", str(org.hardware.pk)),
            ("subcategory", str(org.printer.pk)),
        ],
        [("team", str(org.team_a.pk))],
        [("team", "none")],
        [("assignee", "me")],
        [("assignee", "none")],
        [("assignee", personas.agent.email)],
        [("requester", "me")],
        [("requester", personas.outsider.email)],
        [("per_page", "50"), ("status", "new")],
        [("view", "mine"), ("priority", "high")],
        [("view", "team"), ("sort", "sla_due")],
        [("created_from", "2020-01-01")],
        [("created_to", "2999-01-01"), ("updated_from", "2020-01-01")],
        [("updated_to", "2000-01-01")],
        [("created_from", today), ("created_to", today), ("status", "new")],
    ]
    sorts = [[("sort", key)] for key in SORTS]
    searches = [
        [("q", word)]
        for word in (
            "printer",
            "zebra",
            "giraffe",
            "laptop fan",
            sample.number,
            "nothing",
            "TKT-99999999999",  # a number beyond any id (and a 32-bit column)
        )  # fmt: skip
    ]
    searches += [[("q", "printer"), ("sort", "-created"), ("status", "new")]]
    return filters + sorts + searches


def _seen(tickets: list[Ticket]) -> list[tuple]:
    """Everything a page shows or reads of its tickets."""
    rows = []
    for t in tickets:
        own = tuple(getattr(t, f.attname) for f in Ticket._meta.concrete_fields)
        people = tuple(
            None if p is None else (p.pk, p.full_name, p.email, str(p))
            for p in (t.requester, t.assignee)
        )
        rows.append((own, people))
    return rows


def _compare(user, pairs: list[tuple[str, str]]) -> bool:
    """The compiled page and the ORM's page of `pairs` for `user`, equal; whether the
    compiled path answered."""
    compiled = TicketFilter(QueryDict(urlencode(pairs)), user)
    orm = TicketFilter(QueryDict(urlencode(pairs)), user)
    assert compiled.is_valid(), compiled.form.errors
    assert orm.is_valid()
    data = compiled.form.cleaned_data
    cursor = data.get("after")
    sort = SORTS[compiled.sort_key]
    answered = (
        list_page.shape(
            data,
            user,
            compiled.roles,
            sort_key=compiled.sort_key,
            per_page=compiled.per_page,
            cursor=keyset.decode(cursor, sort) if cursor else None,
            using="default",
        )
        is not None
    )
    got, got_next = compiled.page()
    expected, expected_next = orm.orm_page()
    assert [t.pk for t in got] == [t.pk for t in expected], pairs
    assert _seen(got) == _seen(expected), pairs
    assert got_next == expected_next, pairs
    return answered


def test_every_view_filter_sort_and_search_reads_the_orms_rows(tickets, people, org, personas):
    from portal.accounts.roles import user_roles

    compiled = 0
    # Each persona in turn in one process: a shape's statement compiled for one person is
    # run with the next one's ids, teams and groups.
    for user in [*people.values(), *reversed(people.values())]:
        views = [key for key, _ in available_views(user_roles(user))]
        for view in views:
            for pairs in _queries(org, personas, tickets[4]):
                query = (
                    pairs
                    if ("view", "mine") in pairs or ("view", "team") in pairs
                    else [("view", view), *pairs]
                )
                if ("view", "team") in query and "team" not in views:
                    continue
                compiled += _compare(user, query)
    assert compiled > 500  # the compiled path answered (not everything fell back)


def test_searches_within_a_small_window_read_the_orms_rows(tickets, people, monkeypatch):
    """With a window of 2 tickets (and a second of 4), the compiled statements up to an
    edge (their values and stand-ins), and the indexes' after them, run and read what
    the ORM's page reads, for every persona, sort and word. (With a dozen tickets the
    windows never hold a page: that the pages they hold are right is test_search.py's.)"""
    from django.test.utils import CaptureQueriesContext

    from portal.tickets import search

    monkeypatch.setattr(search, "WINDOW", 2)
    monkeypatch.setattr(search, "WIDER", 2)
    with CaptureQueriesContext(connection) as queries:
        for user in people.values():
            for key in SORTS:
                for word in ("printer", "zebra", "giraffe", "laptop fan", str(tickets[4].pk)):
                    _compare(user, [("sort", key), ("q", word)])
                    _compare(user, [("sort", key), ("q", word), ("status", "new")])
    if connection.vendor == "postgresql":
        assert any("ROW(" in q["sql"] for q in queries.captured_queries)


def test_a_shape_is_narrowed_exactly_when_its_querysets_condition_is(
    tickets, people, org, personas
):
    """A search walks within a window in a list narrower than every ticket (search.py):
    the compiled page decides that from the shape, the ORM's page from its queryset."""
    from portal.accounts.roles import user_roles

    seen = set()
    for user in people.values():
        views = [key for key, _ in available_views(user_roles(user))]
        for view in views:
            for pairs in _queries(org, personas, tickets[4]):
                if {("view", "mine"), ("view", "team")} & set(pairs):
                    if ("view", "team") in pairs and "team" not in views:
                        continue
                else:
                    pairs = [("view", view), *pairs]
                form = TicketFilter(QueryDict(urlencode(pairs)), user)
                assert form.is_valid(), form.form.errors
                data = form.form.cleaned_data
                found = list_page.shape(
                    {**data, "q": ""}, user, form.roles, sort_key=form.sort_key,
                    per_page=form.per_page, cursor=None, using="default",
                )  # fmt: skip
                if found is None:
                    continue
                narrowed = list_page._narrowed(found[0], user)
                assert narrowed is bool(form.queryset(search=False).query.where), (user, pairs)
                seen.add(narrowed)
    assert seen == {True, False}


def test_cursors_of_every_sort_read_the_orms_next_page(tickets, people):
    for user in people.values():
        for key, sort in SORTS.items():
            for middle in tickets[2:8:2]:
                cursor = keyset.cursor_for(Ticket.objects.get(pk=middle.pk), sort)
                for q in ([], [("q", "printer")]):
                    _compare(user, [("sort", key), ("after", cursor), *q])


def test_shapes_left_to_the_orm_still_read_the_same_rows(tickets, people, org):
    leave = [
        [("sla_state", "breached")],
        [("sla_state", "on_track"), ("created_from", "2020-01-01")],
        [("sort", "-priority"), ("after", keyset.cursor_for(tickets[3], SORTS["-priority"]))],
    ]
    for user in people.values():
        for pairs in leave:
            assert not _compare(user, pairs)


def test_search_is_compiled_on_postgresql_only(tickets, personas):
    assert _compare(personas.agent, [("q", "printer")]) is (connection.vendor == "postgresql")


def test_a_person_who_reaches_nothing_sees_nothing(tickets, personas):
    personas.agent.is_active = False
    ticket_filter = TicketFilter(QueryDict(""), personas.agent)
    assert ticket_filter.is_valid()
    assert ticket_filter.page() == ([], None)


def test_a_second_persons_page_of_the_same_shape_compiles_nothing(tickets, personas, monkeypatch):
    from portal.lib import compiled

    pairs = [("view", "mine"), ("q", "printer"), ("sort", "-updated")]
    _compare(personas.requester, pairs)

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(compiled, "_compiled", refuse)
    ticket_filter = TicketFilter(QueryDict(urlencode(pairs)), personas.outsider)
    assert ticket_filter.is_valid()
    ticket_filter.page()


@pytest.fixture
def other_side(tickets, personas, org):
    """Team C's agent and lead, group Y's SPOC, and two of group Y's open tickets in team C."""
    from portal.testing.org import make_other_side

    other = make_other_side(org)
    for ticket in (tickets[6], tickets[8]):
        services.ticket_move_team(
            actor=personas.admin, ticket=ticket, team=other.team_c, reason="Ours"
        )
    return other


def test_people_of_other_teams_and_groups_run_the_same_statements_with_their_own_ids(
    tickets, personas, org, other_side
):
    from portal.accounts.roles import user_roles
    from portal.lib import compiled

    pairs_of = [
        [],
        [("view", "team")],
        [("view", "unassigned")],
        [("view", "waiting")],
        [("status", "new"), ("status", "in_progress")],
        [("sort", "-created")],
    ]
    if connection.vendor == "postgresql":
        pairs_of += [[("q", "printer")], [("q", "overtime")]]
    team_a_only = {t.pk for t in Ticket.objects.filter(team=org.team_a)}
    group_x_only = {t.pk for t in Ticket.objects.filter(group=org.group_x)}
    for role in ("agent", "lead", "spoc"):
        views = {key for key, _ in available_views(user_roles(getattr(personas, role)))}
        queries = [p for p in pairs_of if not p or p[0][0] != "view" or p[0][1] in views]
        for query in queries:
            _compare(getattr(personas, role), query)
        before = set(compiled._shapes)
        for query in queries:
            assert _compare(other_side.like(role), query), (role, query)
            ticket_filter = TicketFilter(QueryDict(urlencode(query)), other_side.like(role))
            assert ticket_filter.is_valid()
            seen = {t.pk for t in ticket_filter.page()[0]}
            assert not seen & (team_a_only if role != "spoc" else group_x_only), (role, query)
        # The second person of each role ran the first one's statements: none was added
        # but a search's page of another number of tickets (its ids are a shape's part).
        added = [key[0] for key in set(compiled._shapes) - before]
        assert all(name.startswith("ticket list: page") and "('ids', " in name for name in added)
        assert not [name for name in added if "('ids', None)" in name], (role, added)
