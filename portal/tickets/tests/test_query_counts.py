"""Query counts are pinned, and do not grow with the page size or the number of comments.

Every signed-in full page once cost six queries besides its own: 1. session row, 2. user
row, 3. the user's SPOC groups, 4. the user's team memberships (roles, computed once per
request), 5. the unread-notifications count (navigation bell), 6. the page-view counter's
upsert (analytics). Now one: the session row with its user joined (accounts/session_user.py).
Each client makes one warm-up request first, so the once-a-minute session refresh is not
counted.
"""

import pytest
from django.db import connection

from portal.tickets import services

pytestmark = pytest.mark.django_db

# The session with its user, one statement; roles, the bell and the filter options come
# from the cache and page views are written once a minute (portal/lib/cache_versions.py,
# analytics/tracking.py).
PER_REQUEST = 1


@pytest.fixture
def warm(client_for):
    def make(user):
        client = client_for(user)
        client.get("/tickets/new")  # refreshes the session once; not part of the count
        client.get("/tickets")  # the filter options and bulk teams now cached
        return client

    return make


def _many(raise_ticket, count):
    for index in range(count):
        raise_ticket(title=f"Ticket {index}")


# The list: 1 page of tickets (requester and assignee joined). The page's groups,
# categories, subcategories and teams come from the cache by id (catalog.selectors.
# attach_master_rows: the warm-up's list cached them; they were 4 lookups by id), as do the
# filter options (groups, teams; categories and subcategories are only listed once a group
# or category is chosen) and the bulk "move team" list.
LIST_BASE = PER_REQUEST + 1
VIEWS = [
    ("requester", "all", LIST_BASE),
    ("requester", "mine", LIST_BASE),
    ("agent", "all", LIST_BASE),
    ("agent", "mine", LIST_BASE),
    ("agent", "assigned", LIST_BASE),
    ("agent", "team", LIST_BASE),
    ("lead", "team", LIST_BASE),
    ("spoc", "all", LIST_BASE),
    ("spoc", "unassigned", LIST_BASE),
    ("admin", "all", LIST_BASE),
    ("admin", "unassigned", LIST_BASE),
]


@pytest.mark.parametrize(("persona", "view", "expected"), VIEWS)
@pytest.mark.parametrize(("tickets", "per_page"), [(3, 25), (55, 50)])
def test_list_query_count_is_constant_per_saved_view(
    persona, view, expected, tickets, per_page, raise_ticket, personas, org, warm,
    django_assert_num_queries,
):  # fmt: skip
    _many(raise_ticket, tickets)
    if view == "unassigned":
        from portal.tickets.models import Ticket

        Ticket.objects.update(assignee=None)
    client = warm(getattr(personas, persona))
    with django_assert_num_queries(expected):
        response = client.get("/tickets", {"view": view, "per_page": per_page})
    assert response.status_code == 200
    shown = len(response.context["tickets"])
    assert shown <= per_page
    assert shown > 0 or (persona, view) == ("agent", "mine")


def test_the_list_reads_of_its_people_only_what_it_shows(raise_ticket, personas, org, warm,
                                                         django_assert_num_queries):  # fmt: skip
    # A page of tickets joins the requester and assignee with their id, name and address
    # alone (filters.PAGE_PERSON_FIELDS): no password hash, and no query later asks for
    # a column left out, for any row.
    ticket = raise_ticket(title="Printer")
    assert ticket.assignee is not None  # routed to a member of the team
    client = warm(personas.admin)
    with django_assert_num_queries(LIST_BASE) as queries:
        response = client.get("/tickets")
    page = queries.captured_queries[-1]["sql"]
    assert "tickets_ticket" in page and '"email"' in page
    assert '"password"' not in page and '"last_login"' not in page
    assert str(ticket.assignee) in response.content.decode()
    assert str(ticket.requester) in response.content.decode()


def test_search_and_filters_add_a_fixed_number_of_queries(raise_ticket, personas, warm, org,
                                           django_assert_num_queries):  # fmt: skip
    _many(raise_ticket, 30)
    client = warm(personas.agent)
    # Search costs 1 statement on SQLite, 2 on PostgreSQL here (the window's edge, none
    # below WINDOW tickets, then the page's matching ids; at most 5 with a wider window
    # and the indexes: search.read_page_ids); choosing a group costs 1 query to
    # validate it, and the first time 1 to list its categories for the category select (the
    # filters' HTML is cached with nothing chosen, per group for the categories; the chosen
    # values are marked in it).
    chosen = {"q": "Ticket", "status": "new", "group": org.group_x.pk}
    searching = 2 if connection.vendor == "postgresql" else 1
    with django_assert_num_queries(LIST_BASE + searching + 1 + 1):
        response = client.get("/tickets", chosen)
    assert len(response.context["tickets"]) == 25
    with django_assert_num_queries(LIST_BASE + searching + 1):
        client.get("/tickets", chosen)


def test_a_team_queue_costs_what_the_plain_list_costs(raise_ticket, personas, org, warm,
                                                     django_assert_num_queries):  # fmt: skip
    _many(raise_ticket, 3)
    client = warm(personas.admin)
    queue = {"status": ["new", "in_progress", "on_hold"], "team": org.team_a.pk, "sort": "-created"}
    # An active team is checked against the cached active teams (no query), and the team
    # select (every team) comes from the cache.
    with django_assert_num_queries(LIST_BASE):
        response = client.get("/tickets", queue)
    assert len(response.context["tickets"]) == 3
    # A team made inactive is no longer among the cached active teams and is looked up
    # instead: its queue still lists its tickets. An id of no team is refused as before.
    org.team_a.is_active = False
    org.team_a.save()
    response = client.get("/tickets", queue)
    assert len(response.context["tickets"]) == 3
    assert client.get("/tickets", {**queue, "team": 999_999}).status_code == 400


def test_htmx_partial_skips_the_filter_option_lists(raise_ticket, personas, warm,
                                                    django_assert_num_queries):  # fmt: skip
    _many(raise_ticket, 30)
    client = warm(personas.agent)
    # The page of tickets (its master data and the bulk form's teams cached); the filter form
    # is not re-rendered.
    with django_assert_num_queries(PER_REQUEST + 1):
        client.get("/tickets", headers={"HX-Request": "true"})


# The ticket page: 1 ticket (requester and assignee joined; its group, category,
# subcategory and team from the cache), with whether the viewer watches it and whether
# each part of the page has rows at all (portal/tickets/page_facts.py: files, related
# tickets, links, ratings, emails); 1 comments (with authors), 1 history events (with
# actors), and 1 the files the viewer may see (with uploaders; the ticket's and comments'
# alike), read because this ticket has files. Its links, ratings, emails and related
# tickets cost nothing here: it has none (test_each_part_of_the_ticket_page_reads_its_rows_
# only_when_it_has_some). The "assign to" list (lead, SPOC, admin) comes from the cache of
# team members (catalog.selectors.team_member_choices, cached by the warm-up's visit) and
# the "move to team" list from the cache of active teams. Everyone pays the same: the
# visibility is decided on the row (access.get_ticket_for_page), not in the statement.
# Before: 6 more statements for the admin (ratings, links, family, emails, team members,
# and the files of a ticket that has none).
DETAIL_BASE = PER_REQUEST + 1 + 1 + 1
DETAIL = dict.fromkeys(("requester", "agent", "lead", "spoc", "admin"), DETAIL_BASE + 1)


# A ticket with more comments or history rows than the page shows (the newest 100 of
# each, tickets/views.py NEWEST_SHOWN): one statement more per such part, the count of the
# rows before the oldest one shown, however long the part (101 or 250 comments alike).
LONG_THREAD = 1


@pytest.fixture
def warm_page(warm):
    """A warm client that has seen the ticket page once (the team members now cached)."""

    def make(user, ticket):
        client = warm(user)
        client.get(f"/tickets/{ticket.number}")
        return client

    return make


@pytest.mark.parametrize("persona", DETAIL)
@pytest.mark.parametrize("comments", [1, 20])
def test_detail_query_count_is_constant_in_the_number_of_comments(
    persona, comments, ticket, personas, warm_page, django_assert_num_queries
):
    for index in range(comments):
        author = personas.agent if index % 2 else personas.requester
        services.comment_add(
            actor=author, ticket=ticket, body=f"Comment {index}", internal=bool(index % 4 == 1)
        )
    # Files on the ticket and on comments (internal ones too) cost no query per file.
    _attach(ticket, personas, files=comments)
    client = warm_page(getattr(personas, persona), ticket)
    with django_assert_num_queries(DETAIL[persona]):
        response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    assert len(response.context["comments"]) >= comments // 2


@pytest.mark.parametrize("persona", DETAIL)
def test_a_ticket_page_with_no_files_links_ratings_mail_or_family_reads_only_its_own(
    persona, ticket, personas, warm_page, django_assert_num_queries
):
    services.comment_add(actor=personas.agent, ticket=ticket, body="On it", internal=False)
    client = warm_page(getattr(personas, persona), ticket)
    # The ticket, its comments, its history.
    with django_assert_num_queries(DETAIL_BASE):
        response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    assert response.context["attachments"] == []
    assert response.context["family"]["children"] == []


def test_a_watchers_ticket_page_costs_what_the_requesters_does(
    ticket, personas, warm_page, django_assert_num_queries
):
    # A watcher with no other role: whether they watch it (their role) comes with the
    # ticket's own read, as for everyone.
    from portal.accounts.models import User

    watcher = User.objects.create_user("watcher@example.com", "x", full_name="Wanda Watcher")
    ticket.watchers.add(watcher)
    services.comment_add(actor=personas.agent, ticket=ticket, body="Psst", internal=True)
    client = warm_page(watcher, ticket)
    with django_assert_num_queries(DETAIL_BASE):
        response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200 and response.context["watching"]
    assert response.context["comments"] == []


def test_an_outsider_and_a_missing_number_cost_the_same_one_statement(
    ticket, personas, warm, django_assert_num_queries
):
    """No existence oracle: the ticket is read by its id and refused on the row, so a
    ticket the person may not see and a number with no ticket make the same statement."""
    from portal.tickets.models import format_number

    client = warm(personas.outsider)
    with django_assert_num_queries(PER_REQUEST + 1) as hidden:
        assert client.get(f"/tickets/{ticket.number}").status_code == 404
    with django_assert_num_queries(PER_REQUEST + 1) as missing:
        assert client.get(f"/tickets/{format_number(ticket.pk + 1000)}").status_code == 404
    # The session's statement aside (it carries the time of the request).
    read = [q["sql"] for q in hidden if "tickets_ticket" in q["sql"]]
    other = [q["sql"] for q in missing if "tickets_ticket" in q["sql"]]
    assert len(read) == 1
    assert [sql.replace(str(ticket.pk + 1000), str(ticket.pk)) for sql in other] == read


def _attach(ticket, personas, *, files):
    """`files` attachment rows spread over the ticket and its comments (no bytes stored:
    the page only reads rows)."""
    from portal.tickets.models import Attachment

    comments = list(ticket.comments.all())
    Attachment.objects.bulk_create(
        Attachment(
            ticket=ticket,
            comment=comments[index % len(comments)] if index % 2 else None,
            uploader=personas.requester,
            original_name=f"photo{index}.png",
            storage_key=f"tickets/{ticket.pk}/photo{index}.png",
            size=100,
            content_type="image/png",
            sha256="0" * 64,
        )
        for index in range(files)
    )


@pytest.mark.parametrize("persona", DETAIL)
@pytest.mark.parametrize(
    ("comments", "edits", "counted"), [(101, 0, 1), (0, 101, 1), (250, 120, 2)]
)
def test_a_long_thread_costs_one_count_per_part_shown_in_part(
    persona, comments, edits, counted, ticket, personas, warm_page, django_assert_num_queries
):
    import datetime as dt

    from django.utils import timezone

    from portal.tickets.models import Comment, TicketEvent
    from portal.tickets.views import NEWEST_SHOWN

    start = timezone.now() - dt.timedelta(days=1)
    Comment.objects.bulk_create(
        Comment(ticket=ticket, author=personas.agent, body=f"Note {n}",
                created_at=start + dt.timedelta(seconds=n))
        for n in range(comments)
    )  # fmt: skip
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, actor=personas.agent, kind=TicketEvent.Kind.EDITED,
                    field="title", new_value=f"Title {n}", version=ticket.version,
                    created_at=start + dt.timedelta(seconds=n))
        for n in range(edits)
    )  # fmt: skip
    _attach(ticket, personas, files=1)
    client = warm_page(getattr(personas, persona), ticket)
    with django_assert_num_queries(DETAIL[persona] + counted * LONG_THREAD):
        response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    assert len(response.context["comments"]) == min(comments, NEWEST_SHOWN)
