"""Search: request-form answers are searchable, and on PostgreSQL the plan reads the GIN
indexes of the stored text vectors for a rare word and walks the list for a common one."""

import json

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from portal.catalog import form_services
from portal.testing.request_forms import every_type_form
from portal.testing.tables import table_options
from portal.tickets import search
from portal.tickets.filters import SORTS
from portal.tickets.models import Comment, Ticket
from portal.tickets.search import GIN_INDEXES

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stored text vectors and plans are PostgreSQL's"
)
# A plan test commits its rows so that VACUUM can run (see `searchable`).
plan_test = pytest.mark.django_db(transaction=True)


def _numbers(response) -> list[str]:
    return [t.number for t in response.context["tickets"]]


def test_a_word_of_a_form_answer_finds_the_ticket(raise_ticket, org, personas, client_for):
    every_type_form(category=org.hardware)
    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "details": "Blue chassis, please"})
    raise_ticket(title="Another laptop")
    client = client_for(personas.agent)
    assert _numbers(client.get("/tickets", {"q": "chassis"})) == [ticket.number]
    assert _numbers(client.get("/tickets", {"q": "heliotrope"})) == []


def test_answers_of_a_retired_field_stay_searchable(raise_ticket, org, personas, client_for):
    fields = every_type_form(category=org.hardware)
    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "details": "Blue chassis, please"})
    form_services.form_field_retire(field=fields["details"])
    response = client_for(personas.requester).get("/tickets", {"q": "chassis"})
    assert _numbers(response) == [ticket.number]


def test_an_edited_answer_is_found_by_its_new_words_only(raise_ticket, org, personas, client_for):
    """The stored vector follows every write (a generated column on PostgreSQL)."""
    every_type_form(category=org.hardware)
    ticket = raise_ticket(form_values={"asset_tag": "LT-7", "details": "Blue chassis"})
    Ticket.objects.filter(pk=ticket.pk).update(form_values={"asset_tag": "LT-7", "details": "Red"})
    client = client_for(personas.admin)
    assert _numbers(client.get("/tickets", {"q": "chassis"})) == []
    assert _numbers(client.get("/tickets", {"q": "red"})) == [ticket.number]


@pytest.mark.parametrize(
    ("text", "names_one"),
    [("TKT-000123", True), ("tkt-5", True), (" TKT123 ", True), ("500", False),
     ("2026", False), ("TKT-12 printer", False), ("printer", False)],
)  # fmt: skip
def test_only_a_number_in_the_tickets_own_form_skips_the_window(text, names_one):
    """A bare number ("500", "2026") is an error code or a year as often as a ticket:
    it is searched like any word (its own branch finds the ticket too)."""
    assert search.names_a_ticket(text) is names_one


@pytest.mark.parametrize("sort", SORTS)
def test_a_search_keeps_the_chosen_sort_order(sort, raise_ticket, personas, client_for):
    tickets = [
        raise_ticket(title=f"Printer {i}", priority=priority)
        for i, priority in enumerate(["low", "urgent", "medium", "high"])
    ]
    raise_ticket(title="Scanner")
    client = client_for(personas.admin)
    listed = _numbers(client.get("/tickets", {"sort": sort}))
    response = client.get("/tickets", {"q": "printer", "sort": sort})
    assert response.status_code == 200
    assert _numbers(response) == [n for n in listed if n in {t.number for t in tickets}]


# ---------------------------------------------------------------------------------------
# Plan shapes (PostgreSQL)

COMMON, RARE_IN_TICKET, RARE_IN_COMMENT = "printer", "zebracode", "quaggaerror"
TICKETS = 3000


@pytest.fixture
def searchable(org, personas):
    """3,000 tickets that all say 'printer'; one also says a rare word, and one comment
    another. Analysed, so the planner knows how common each word is."""
    tickets = Ticket.objects.bulk_create(
        Ticket(
            title=f"Printer jams on floor {i % 7}",
            description=f"The printer shows error {i}. " + (RARE_IN_TICKET if i == 1234 else ""),
            requester=personas.requester,
            group=org.group_x,
            category=org.hardware,
            team=org.team_a,
        )
        for i in range(TICKETS)
    )
    Comment.objects.bulk_create(
        Comment(
            ticket=ticket,
            author=personas.agent,
            body=f"Printer restarted. {RARE_IN_COMMENT if i == 77 else ''}",
        )
        for i, ticket in enumerate(tickets[:1500])
    )
    with connection.cursor() as cursor:
        # Committed and vacuumed (the plan tests are transactional): the planner then sees
        # exactly these rows, not also dead ones or GIN entries left pending by earlier
        # tests' rolled-back inserts, whatever ran before on this database.
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute("VACUUM ANALYZE tickets_comment")
    return tickets


def _search_plans(client, text: str, *settings: str) -> list[list[tuple[str, str]]]:
    """(node type, index name) of every node of the plan of each of the page's search
    statements (the window's; then, for a page it left short, the indexes'), with
    `settings` (`name = value`) in force besides."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tickets", {"q": text})
    assert response.status_code == 200
    statements = [q["sql"] for q in queries.captured_queries if "@@" in q["sql"]]
    return [_plan(statement, settings) for statement in statements]


def _search_plan(client, text: str, *settings: str) -> list[tuple[str, str]]:
    """The nodes of the page's last search statement's plan (the one that found it)."""
    return _search_plans(client, text, *settings)[-1]


def _plan(statement: str, settings) -> list[tuple[str, str]]:
    with transaction.atomic(), connection.cursor() as cursor:  # for SET LOCAL
        # At 3,000 rows reading the whole table is cheapest, which it never is for a real
        # ticket table: without it, the planner chooses between the plans that matter at
        # scale (the GIN indexes, or walking the list's index).
        cursor.execute("SET LOCAL enable_seqscan = off")
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement)
        [[plan]] = cursor.fetchall()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append((node["Node Type"], node.get("Index Name", "")))
        stack.extend(node.get("Plans", []))
    return nodes


@postgresql_only
@plan_test
def test_a_rare_word_reads_the_gin_indexes_first(searchable, personas, client_for):
    client = client_for(personas.admin)
    nodes = _search_plan(client, RARE_IN_TICKET)
    assert ("Bitmap Index Scan", GIN_INDEXES["ticket"]) in nodes
    assert _numbers(client.get("/tickets", {"q": RARE_IN_TICKET})) == [searchable[1234].number]
    nodes = _search_plan(client, RARE_IN_COMMENT)
    assert ("Bitmap Index Scan", GIN_INDEXES["comment"]) in nodes
    assert _numbers(client.get("/tickets", {"q": RARE_IN_COMMENT})) == [searchable[77].number]


@postgresql_only
@plan_test
def test_a_common_word_walks_the_list_and_stops_after_a_page(searchable, personas, client_for):
    """Over every ticket (an admin's unfiltered list: no window), the planner's way."""
    client = client_for(personas.admin)
    [nodes] = _search_plans(client, COMMON)
    assert ("Bitmap Index Scan", GIN_INDEXES["ticket"]) not in nodes
    assert any(kind.startswith("Index") and name == "ticket_updated" for kind, name in nodes)
    assert len(_numbers(client.get("/tickets", {"q": COMMON}))) == 25


def _statements(client, params: dict) -> tuple[list[str], list[str], object]:
    """(the window's search statements, the indexes' ones, the response) of a page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tickets", params)
    assert response.status_code == 200
    searching = [q["sql"] for q in queries.captured_queries if "@@" in q["sql"]]
    return (
        [sql for sql in searching if "ROW(" in sql],
        [sql for sql in searching if "ROW(" not in sql],
        response,
    )


@postgresql_only
@plan_test
def test_an_agents_common_word_is_found_within_the_window(searchable, personas, client_for):
    """An agent's list is narrower than every ticket: the page is found within the
    window (its newest 2,000 of the 3,000 here), testing tickets and their comments one
    by one (no GIN entries), and nothing more is read."""
    client = client_for(personas.agent)
    window, indexed, response = _statements(client, {"q": COMMON})
    assert len(window) == 1 and indexed == []
    assert len(_numbers(response)) == 25
    nodes = _plan(window[0], ())
    assert not [name for _, name in nodes if name in set(GIN_INDEXES.values())], nodes


def _say(tickets, word: str) -> None:
    """`tickets` now say `word` too (their stored vectors follow: generated columns)."""
    for ticket in tickets:
        Ticket.objects.filter(pk=ticket.pk).update(title=f"{ticket.title} {word}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")


def _newest_first(tickets):
    return sorted(tickets, key=lambda t: (t.updated_at, t.pk), reverse=True)


@postgresql_only
@plan_test
@pytest.mark.parametrize(
    ("every", "wider", "windows", "indexes"),
    [
        # 10 matches in the first window (30): two pages in one 8 times larger, walked.
        (3, 8, 2, 0),
        # 8 matches: one page but not two in one 4 times larger: the indexes next.
        (4, 4, 1, 1),
    ],
)
def test_a_window_short_of_a_page_reads_a_wider_one_where_it_promises_two_pages(
    searchable, personas, client_for, monkeypatch, every, wider, windows, indexes
):
    """A word in every `every`-th ticket: the first window (30) holds fewer than the 26
    a page needs; a window `wider` times larger is walked where, at that density, it
    would hold two pages, and the indexes are read otherwise."""
    monkeypatch.setattr(search, "WINDOW", 30)
    monkeypatch.setattr(search, "WIDER", wider)
    newest = _newest_first(searchable)
    _say(newest[::every], "kiwi")
    client = client_for(personas.agent)
    window, indexed, response = _statements(client, {"q": "kiwi"})
    assert (len(window), len(indexed)) == (windows, indexes)
    assert _numbers(response) == [t.number for t in newest[::every][:25]]
    assert response.context["next_query"]


@postgresql_only
@plan_test
def test_one_match_short_of_a_page_in_both_windows_is_read_from_the_indexes(
    searchable, personas, client_for, monkeypatch
):
    """The 25 newest tickets and one old one say a word: both windows hold 25 of the 26
    a page needs (a full page and the sign of a next one), so the page is read from the
    indexes, and it has its next page."""
    monkeypatch.setattr(search, "WINDOW", 30)
    monkeypatch.setattr(search, "WIDER", 4)
    newest = _newest_first(searchable)
    _say([*newest[:25], newest[-1]], "kiwi")
    client = client_for(personas.agent)
    window, indexed, response = _statements(client, {"q": "kiwi"})
    assert len(window) == 2 and len(indexed) == 1
    assert _numbers(response) == [t.number for t in newest[:25]]
    following = client.get(f"/tickets?{response.context['next_query']}")
    assert _numbers(following) == [newest[-1].number]


@postgresql_only
@plan_test
def test_a_word_the_window_does_not_hold_is_read_from_the_indexes_at_once(
    searchable, personas, client_for, monkeypatch
):
    """Nothing in the first window: no wider walk (a rare word's matches are few)."""
    monkeypatch.setattr(search, "WINDOW", 30)
    client = client_for(personas.agent)
    window, indexed, response = _statements(client, {"q": RARE_IN_TICKET})
    assert len(window) == 1 and len(indexed) == 1
    assert _numbers(response) == [searchable[1234].number]


# Parallel plans made free, and allowed even where the server's default forbids them.
FREE_PARALLEL = [
    "parallel_setup_cost = 0", "parallel_tuple_cost = 0", "max_parallel_workers_per_gather = 2",
    "min_parallel_table_scan_size = 0", "min_parallel_index_scan_size = 0",
]  # fmt: skip


@postgresql_only
@plan_test
@pytest.mark.parametrize("persona", ["agent", "admin"])
def test_a_search_walks_the_tickets_in_one_process(searchable, personas, client_for, persona):
    """Parallel workers made the two-word search's comment branch 14 ms instead of 5 at 1M
    tickets (migration 0022), and a parallel scan of the matching comments made reading
    the comment index first look cheap, 949 ms instead of 19 (0023): even with parallel
    plans made free, no plan scans tickets or comments in parallel, whether the words are
    common, together, or rare in a ticket or a comment."""
    client = client_for(getattr(personas, persona))
    for word in (COMMON, f"{COMMON} restarted", RARE_IN_TICKET, RARE_IN_COMMENT):
        for nodes in _search_plans(client, word, *FREE_PARALLEL):
            assert not [kind for kind, _ in nodes if kind.startswith("Gather")], (word, nodes)
    for table in ("tickets_ticket", "tickets_comment"):
        assert table_options(table)["parallel_workers"] == "0"


@postgresql_only
@plan_test
@pytest.mark.parametrize("table", ["tickets_ticket", "tickets_comment"])
def test_no_statement_reads_tickets_or_comments_with_parallel_workers(searchable, table):
    """What the search's plans rely on, for any statement: with parallel plans made free,
    even counting every row of either table (a bulk read that would fan out first) runs
    in one process (migrations 0022 and 0023)."""
    with transaction.atomic(), connection.cursor() as cursor:  # for SET LOCAL
        for setting in FREE_PARALLEL:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute(f"EXPLAIN SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # The control: a table without the setting is counted in parallel here.
        cursor.execute("EXPLAIN SELECT count(*) FROM tickets_ticketevent")
        control = "\n".join(row[0] for row in cursor.fetchall())
    assert "Parallel" not in plan and "Gather" not in plan, plan
    assert "Gather" in control, control


@postgresql_only
@plan_test
def test_a_requester_searches_their_own_tickets_without_the_ticket_index(
    searchable, personas, client_for
):
    """A requester's scope is their own tickets (and watched ones): testing those beats
    reading the index's entries across every ticket for a common word (search.py)."""
    client = client_for(personas.requester)
    for word in (COMMON, RARE_IN_TICKET):
        nodes = _search_plan(client, word)
        assert ("Bitmap Index Scan", GIN_INDEXES["ticket"]) not in nodes
    assert _numbers(client.get("/tickets", {"q": RARE_IN_TICKET})) == [searchable[1234].number]
    assert _numbers(client.get("/tickets", {"q": RARE_IN_COMMENT})) == [searchable[77].number]
    assert len(_numbers(client.get("/tickets", {"q": COMMON}))) == 25


@postgresql_only
@plan_test
def test_a_word_common_elsewhere_but_rare_in_a_persons_teams_reads_no_more_than_the_window(
    searchable, personas, org, client_for, monkeypatch
):
    """At 1M tickets "printer" is in 26,150 tickets of one team. For an agent of two
    other teams the planner walked the list hoping to meet 26 of theirs and read all
    1,000,000 (4.1 s). Now the walk stops at the window's edge, testing its tickets one
    by one (no GIN entries of a common word), and the page it leaves short is read from
    the GIN indexes in an order no index gives (search.page_ids_indexed): no plan walks
    the list to its end."""
    from portal.testing.org import make_other_side

    monkeypatch.setattr(search, "WINDOW", 200)
    other = make_other_side(org)
    oldest = sorted(searchable, key=lambda t: (t.updated_at, t.pk))
    theirs = [oldest[0], oldest[5], oldest[9]]
    Ticket.objects.filter(pk__in=[t.pk for t in theirs]).update(team=other.team_c)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    client = client_for(other.agent_c)
    window, indexed = _search_plans(client, COMMON)
    gin = set(GIN_INDEXES.values())
    assert not [name for _, name in window if name in gin], window
    assert not [name for _, name in indexed if name == "ticket_updated"], indexed
    expected = sorted(theirs, key=lambda t: (t.updated_at, t.pk), reverse=True)
    assert _numbers(client.get("/tickets", {"q": COMMON})) == [t.number for t in expected]


@postgresql_only
@plan_test
def test_a_search_reads_the_same_pages_with_a_window_as_without(
    searchable, personas, client_for, monkeypatch
):
    """Found within a window of 30 tickets, or read from the indexes where it leaves a
    page short, the same pages as with no window (a window larger than the table): every
    sort, the next page by cursor, words in tickets and comments, and a number. (An
    agent: a list narrower than every ticket, so the window applies.)"""
    client = client_for(personas.agent)
    # A bare number is a word too, walked in the window with the number's own branch.
    for word in (COMMON, f"{COMMON} restarted", RARE_IN_COMMENT, str(searchable[1500].pk)):
        for sort in SORTS:
            pages = {}
            for window in (30, 10_000_000):
                monkeypatch.setattr(search, "WINDOW", window)
                response = client.get("/tickets", {"q": word, "sort": sort})
                more = response.context["next_query"]
                second = _numbers(client.get(f"/tickets?{more}")) if more else None
                pages[window] = (_numbers(response), second)
            assert pages[30] == pages[10_000_000], (word, sort)


@postgresql_only
@plan_test
@pytest.mark.parametrize("sort", SORTS)
def test_a_window_holds_its_size_even_among_equal_keys(searchable, sort):
    """All 3,000 tickets here share one priority and one SLA due time (none): a window on
    the first key alone held every one of them for those sorts. Compared as one row, the
    keys end it at its own ticket."""
    order_by = SORTS[sort].order_by()
    [edge] = search.window_edge(order_by, None, 30)
    among = Ticket.objects.filter(search.WINDOW_AMONG.get(order_by[0].lstrip("-"), Q()))
    assert among.filter(search.up_to_edge(order_by, edge)).count() == 30


@postgresql_only
@plan_test
def test_fewer_tickets_than_a_window_are_walked_whole(searchable, personas, client_for):
    """3,000 tickets and a window of 10,000: no edge, so every ticket is walked and the
    page is complete, with no GIN entries read (the planner's own plan could read every
    matching comment of a pair of words it misjudged)."""
    client = client_for(personas.agent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "WINDOW", 10_000)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/tickets", {"q": f"{COMMON} restarted"})
    [statement] = [q["sql"] for q in queries.captured_queries if "@@" in q["sql"]]
    nodes = _plan(statement, ())
    assert not [name for _, name in nodes if name in set(GIN_INDEXES.values())], nodes
    assert len(_numbers(response)) == 25
