"""Master rows read by an id someone typed (forms, the API) or a ticket's come from the shared
cache."""

import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.catalog import selectors
from portal.catalog.invalidation import MASTERS
from portal.catalog.models import Category, Subcategory, Team, TeamMember
from portal.catalog.selectors import attach_master_rows, master_row, team_member_choices
from portal.lib import cache_versions, memo
from portal.lib.cache_versions import bump
from portal.testing.cache import new_version_elsewhere, watch_cache_reads
from portal.tickets.models import Ticket
from portal.tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def test_a_made_up_id_adds_nothing_to_the_cache(django_assert_num_queries):
    # Were "no such row" kept, anyone could fill the cache with ids of their choosing.
    for _ in range(2):
        with django_assert_num_queries(1):
            assert master_row("category", 987_654_321) is None


def test_a_real_row_is_read_once(django_assert_num_queries, org):
    category = Category.objects.order_by("pk").first()
    with django_assert_num_queries(1):
        assert master_row("category", category.pk) == category
    with django_assert_num_queries(0):
        assert master_row("category", category.pk) == category


def test_a_row_not_cached_brings_its_whole_table_for_the_pages_after(
    django_assert_num_queries, org
):
    """A process that has just started reads each master table once, not a few rows on
    most of its first pages (attach_master_rows); inactive rows come too (old tickets
    point at them), and a catalogue change starts again from the database."""

    def ticket_like(subcategory: Subcategory, team: Team | None = None) -> SimpleNamespace:
        return SimpleNamespace(
            group_id=subcategory.category.group_id, category_id=subcategory.category_id,
            subcategory_id=subcategory.pk, team_id=team.pk if team else None,
        )  # fmt: skip

    retired = Subcategory.objects.create(category=org.hardware, name="Fax", is_active=False)
    first, *others = [*Subcategory.objects.exclude(pk=retired.pk).order_by("pk"), retired]
    assert others, "needs a second subcategory"
    start = ticket_like(first)
    with django_assert_num_queries(3):  # groups, categories, subcategories; no team
        attach_master_rows([start])
    later = [ticket_like(subcategory) for subcategory in others]
    with django_assert_num_queries(0):
        attach_master_rows(later)
    assert [t.subcategory for t in later] == others
    assert later[-1].subcategory.is_active is False
    team_a, team_b = ticket_like(first, org.team_a), ticket_like(first, org.team_b)
    with django_assert_num_queries(1):  # the teams: every one of them
        attach_master_rows([team_a])
    with django_assert_num_queries(0):
        attach_master_rows([team_b])
    assert (team_a.team, team_b.team) == (org.team_a, org.team_b)

    Subcategory.objects.filter(pk=first.pk).update(name="Renamed")
    bump(MASTERS)
    again = ticket_like(first)
    with django_assert_num_queries(3):
        attach_master_rows([again])
    assert again.subcategory.name == "Renamed"


def _ticket_like(subcategory: Subcategory, team: Team) -> SimpleNamespace:
    return SimpleNamespace(
        group_id=subcategory.category.group_id, category_id=subcategory.category_id,
        subcategory_id=subcategory.pk, team_id=team.pk,
    )  # fmt: skip


def _read_then_watched(org, monkeypatch) -> tuple[Subcategory, list]:
    """A subcategory whose rows (and team A's) the process has read, and a list of the
    shared cache's reads from then on."""
    subcategory = Subcategory.objects.order_by("pk").first()
    attach_master_rows([_ticket_like(subcategory, org.team_a)])
    return subcategory, watch_cache_reads(monkeypatch, selectors)


def test_rows_this_process_has_read_are_not_read_from_the_cache_again(org, monkeypatch):
    """Unpickling the rows from the memory cache was 7 % of a list at 1,000,000 tickets:
    the process keeps the rows of the version it read, and reads only rows new to it."""
    subcategory, reads = _read_then_watched(org, monkeypatch)
    again = _ticket_like(subcategory, org.team_b)
    attach_master_rows([again])
    assert reads == [] and again.team == org.team_b and again.subcategory == subcategory


def test_a_catalogue_change_in_another_process_is_seen_at_the_next_read(org):
    """The rows are kept under the version: a new one written by another process (the
    versions' store is what every process reads) leaves them behind."""
    subcategory = Subcategory.objects.order_by("pk").first()
    attach_master_rows([_ticket_like(subcategory, org.team_a)])
    Team.objects.filter(pk=org.team_a.pk).update(name="Desk renamed")
    new_version_elsewhere(MASTERS)
    later = _ticket_like(subcategory, org.team_a)
    attach_master_rows([later])
    assert later.team.name == "Desk renamed"
    assert master_row("team", org.team_a.pk).name == "Desk renamed"


def test_what_one_caller_sets_on_a_row_never_reaches_the_next(org):
    """Each call gets copies: a related row cached on one, or a field changed by mistake,
    stays with that call; its own objects share one copy, as one query's rows would."""
    subcategory = Subcategory.objects.order_by("pk").first()
    first, second = _ticket_like(subcategory, org.team_a), _ticket_like(subcategory, org.team_a)
    attach_master_rows([first, second])
    assert first.team is second.team
    assert first.subcategory.category == subcategory.category  # now in the copy's cache
    first.team.name = "Changed in one request"
    later = _ticket_like(subcategory, org.team_a)
    attach_master_rows([later])
    assert later.team.name == org.team_a.name
    assert later.subcategory._state.fields_cache == {}
    assert master_row("team", org.team_a.pk).name == org.team_a.name


def test_real_tickets_get_their_rows_with_no_query_and_copies_of_their_own(
    django_assert_num_queries, personas, org
):
    """A ticket (not a stand-in) gets its rows in its field cache, as the foreign keys'
    own setter would leave them: reading them costs nothing, and they are not the
    process's objects."""
    ticket = ticket_create(
        requester=personas.requester, title="Badge reader broken", description="Door 3.",
        group=org.group_x, category=org.hardware,
    )  # fmt: skip
    attach_master_rows([Ticket.objects.get(pk=ticket.pk)])  # the process reads them
    fresh = Ticket.objects.get(pk=ticket.pk)
    with django_assert_num_queries(0):
        attach_master_rows([fresh])
        assert (fresh.group, fresh.category, fresh.team) == (
            ticket.group, ticket.category, ticket.team
        )  # fmt: skip
    kept = selectors._ROWS.under(cache_versions.versioned_key(MASTERS, "row"))
    assert fresh._state.fields_cache["team"] is not kept[("team", ticket.team_id)]


def test_kept_rows_are_read_again_once_older_than_the_shared_entries_may_live(org, monkeypatch):
    """The process keeps rows five minutes at most: an entry the shared cache lets expire
    (one a failed bump left behind, cache_versions) does not live on in every process."""
    subcategory, reads = _read_then_watched(org, monkeypatch)
    later = time.monotonic() + selectors._ROWS.max_age + 1
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    attach_master_rows([_ticket_like(subcategory, org.team_a)])
    assert len(reads) == 1


def test_a_team_list_not_cached_brings_every_team_s_list(django_assert_num_queries, org, personas):
    """The ticket page's "assign to" list: one query (and the teams' ids) for every team,
    then none for the next team; a team without members is kept as empty too; members are
    active members with active accounts, by name, named as accounts are."""
    empty = Team.objects.create(name="Nobody yet")
    TeamMember.objects.create(team=org.team_b, user=personas.agent, is_active=False)
    with django_assert_num_queries(2):
        team_a = team_member_choices(org.team_a.pk)
    with django_assert_num_queries(0):
        assert team_member_choices(empty.pk) == []
        team_b = team_member_choices(org.team_b.pk)
    expected = {
        team: [
            (user.pk, str(user))
            for user in User.objects.filter(
                is_active=True, team_memberships__team=team, team_memberships__is_active=True
            ).order_by("full_name", "email")  # the database's own collation
        ]
        for team in (org.team_a, org.team_b)
    }
    assert team_a == expected[org.team_a] != []
    assert personas.agent.pk not in dict(team_b)
    assert team_b == expected[org.team_b]


def test_a_large_master_table_is_read_up_to_its_bound_then_by_id(
    django_assert_num_queries, org, monkeypatch
):
    """WHOLE_TABLE_ROWS bounds what one miss reads: a row beyond it is read by its id."""
    monkeypatch.setattr(selectors, "WHOLE_TABLE_ROWS", 1)
    first, last = Team.objects.order_by("pk")[0], Team.objects.order_by("-pk")[0]
    assert first != last
    rows = [SimpleNamespace(group_id=None, category_id=None, subcategory_id=None, team_id=t.pk)
            for t in (first, last)]  # fmt: skip
    with django_assert_num_queries(2):  # the first row of the table, then the last by id
        attach_master_rows(rows)
    assert [row.team for row in rows] == [first, last]


def test_while_the_cache_does_not_answer_only_the_rows_asked_for_are_read(
    django_assert_num_queries, org, monkeypatch
):
    monkeypatch.setattr(selectors, "cache_answering", lambda: False)
    monkeypatch.setattr(cache_versions, "cache_answering", lambda: False)
    row = SimpleNamespace(group_id=org.group_x.pk, category_id=None, subcategory_id=None,
                          team_id=None)  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        attach_master_rows([row])
    [read] = queries.captured_queries
    assert f'"id" IN ({org.group_x.pk})' in read["sql"] and row.group == org.group_x
    with django_assert_num_queries(1):
        assert team_member_choices(org.team_a.pk)
