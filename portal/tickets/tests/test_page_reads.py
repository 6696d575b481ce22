"""The ticket page's compiled reads (access.get_ticket_for_page, page_comments, page_events)
answer what the ORM's access-checked querysets answer, for every persona and on every
backend (times, booleans and JSON converted as the ORM converts them): nobody reads an
internal note they may not, and the rows come as the page read them before."""

import contextlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.accounts.selectors import NAME_FIELDS, naming
from portal.lib.http import NotVisible
from portal.tickets import access, page_rows, services
from portal.tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _fields(row) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def _person(user) -> tuple | None:
    return None if user is None else (user.pk, user.full_name, user.email, str(user))


@pytest.fixture
def busy_ticket(ticket, personas):
    """A ticket with public and internal comments, an assignee and request-form values."""
    services.comment_add(actor=personas.agent, ticket=ticket, body="Public <b>answer</b>")
    services.comment_add(actor=personas.agent, ticket=ticket, body="Internal note", internal=True)
    services.comment_add(actor=personas.requester, ticket=ticket, body="Thanks")
    ticket = Ticket.objects.get(pk=ticket.pk)
    services.ticket_assign(
        actor=personas.lead,
        ticket=ticket,
        assignee=personas.lead,
        reason="",
        expected_version=ticket.version,
    )
    Ticket.objects.filter(pk=ticket.pk).update(form_values={"serial": "SN-1"})
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.parametrize(
    "persona", ["requester", "agent", "lead", "spoc", "admin", "outsider", "watcher"]
)
def test_the_pages_reads_answer_as_the_access_checked_querysets(busy_ticket, people, persona):
    user = people[persona]
    if persona == "watcher":
        busy_ticket.watchers.add(user)
    if persona == "outsider":
        with pytest.raises(NotVisible):
            access.get_ticket_for_page(user, busy_ticket.number)
        assert access.page_comments(user, busy_ticket).rows == []
        assert access.page_events(user, busy_ticket).rows == []
        return
    page = access.get_ticket_for_page(user, busy_ticket.number)
    orm = Ticket.objects.select_related("requester", "assignee").get(pk=busy_ticket.pk)
    assert _fields(page) == _fields(orm)
    assert page.form_values == {"serial": "SN-1"}
    assert _person(page.requester) == _person(orm.requester)
    assert _person(page.assignee) == _person(orm.assignee) != None  # noqa: E711
    assert page.watched is (persona == "watcher")

    comments = access.page_comments(user, page).rows
    expected = list(naming(Comment.objects.visible_to(user, orm), "author"))
    assert [_fields(c) for c in comments] == [_fields(c) for c in expected]
    assert [_person(c.author) for c in comments] == [_person(c.author) for c in expected]
    internal = [c.body for c in comments if c.is_internal]
    assert internal == ([] if persona == "requester" or persona == "watcher" else ["Internal note"])

    events = access.page_events(user, page).rows
    expected_events = list(
        naming(TicketEvent.objects.visible_to(user, orm), "actor").exclude(
            kind=TicketEvent.Kind.COMMENTED
        )
    )
    assert [_fields(e) for e in events] == [_fields(e) for e in expected_events]
    assert [_person(e.actor) for e in events] == [_person(e.actor) for e in expected_events]
    assert any(e.actor is None for e in events)  # routing: nobody behind it


def test_a_ticket_without_assignee_reads_none_and_a_missing_number_is_not_visible(ticket, personas):
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
    page = access.get_ticket_for_page(personas.admin, ticket.number)
    assert page.assignee is None and page.assignee_id is None
    with pytest.raises(NotVisible):
        access.get_ticket_for_page(personas.admin, "TKT-999999")


def test_one_process_serves_each_scope_its_own_statement(busy_ticket, people):
    """The compiled reads are kept per process by name: a worker's read for the people
    working a ticket must never be reused for its requester, in either order."""
    internal = "Internal note"
    for persona in ["agent", "requester", "lead", "requester", "admin"]:
        user = people[persona]
        bodies = [comment.body for comment in access.page_comments(user, busy_ticket).rows]
        assert (internal in bodies) is (persona != "requester"), persona


def test_the_ticket_read_names_its_people_by_lookups_not_joins(busy_ticket, people):
    """PostgreSQL plans the page's read at its first runs on a connection (and at every
    run without prepared statements), and joining the two people cost that planning more
    than looking each one up by id
    (page_rows.looked_up; docs/benchmarks.md, "The ticket page's first visit, its
    planning, and what a round trip costs")."""
    with CaptureQueriesContext(connection) as sent:
        page = access.get_ticket_for_page(people["admin"], busy_ticket.number)
    [read] = [q["sql"] for q in sent.captured_queries if 'FROM "tickets_ticket" ' in q["sql"]]
    assert " JOIN " not in read.upper()
    assert str(page.requester) and page.assignee is not None


def test_a_signed_in_ticket_page_keeps_one_plan_for_its_reads_by_key(client, busy_ticket, people):
    """The session's read and the page's three reads are marked one plan (lib/plans.py):
    once prepared, PostgreSQL plans each of them once and never again for its values."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    client.force_login(people["admin"])
    for _ in range(8):  # prepared at the sixth run on the connection
        assert client.get(busy_ticket.get_absolute_url()).status_code == 200
    reads = {
        "session and user": '%s."session_data"%',
        "ticket": '%AS "page_has_files"%',
        "history": 'SELECT "tickets_ticketevent"."id" AS "id"%',
        "comments": 'SELECT "tickets_comment"."id" AS "id"%',
    }
    with connection.cursor() as cursor:
        for name, pattern in reads.items():
            cursor.execute(
                "SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                [pattern],
            )
            generic, custom = cursor.fetchone()
            assert generic and not custom, (name, generic, custom)


def test_a_made_row_behaves_as_the_orm_s_own(busy_ticket, people):
    """page_rows makes instances without Model.__init__ (5 % of the mixed load's CPU): what
    the page and a later write rely on is as from_db leaves it."""
    page = access.get_ticket_for_page(people["admin"], busy_ticket.number)
    orm = Ticket.objects.get(pk=busy_ticket.pk)
    assert page.__class__ is Ticket and _fields(page) == _fields(orm)
    assert (page._state.adding, page._state.db) == (False, "default")
    page.validate_unique()  # reads `adding`: a new row would clash with itself
    named = User.objects.only(*NAME_FIELDS).get(pk=orm.requester_id)
    assert page.requester.get_deferred_fields() == named.get_deferred_fields() != set()
    assert page.requester.is_active is True  # a field not read: loaded on use, as deferred
    page.title = "Saved from a made row"
    page.save(update_fields=["title"])
    assert Ticket.objects.get(pk=busy_ticket.pk).title == "Saved from a made row"


def test_a_model_with_an_init_receiver_gets_its_signals(busy_ticket, people):
    """A receiver of post_init (an app that remembers loaded values) sees every made row."""
    from django.db.models.signals import post_init

    seen = []

    def remember(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(remember, sender=Ticket)
    try:
        page = access.get_ticket_for_page(people["admin"], busy_ticket.number)
    finally:
        post_init.disconnect(remember, sender=Ticket)
    assert seen == [page]


@contextlib.contextmanager
def _rechecked(monkeypatch):
    """page_rows decides once per model whether it may make rows itself: decided again for
    the model as patched, and again once the patch is undone."""
    page_rows._plain_fields.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        page_rows._plain_fields.cache_clear()


def test_a_model_with_its_own_from_db_is_made_by_it(busy_ticket, people, monkeypatch):
    """Were a model to make its rows its own way (an override remembering loaded values),
    the page's rows go through it, not around it."""
    made = []
    original = Ticket.from_db.__func__

    def from_db(cls, db, field_names, values):
        made.append(values[0])
        return original(cls, db, field_names, values)

    monkeypatch.setattr(Ticket, "from_db", classmethod(from_db))
    with _rechecked(monkeypatch):
        page = access.get_ticket_for_page(people["admin"], busy_ticket.number)
    assert made == [page.pk]


def test_a_field_with_its_own_setter_is_set_through_it(busy_ticket, people, monkeypatch):
    """A field whose attribute does more than keep the value (a descriptor that normalises
    or records it) sees the page's rows set through it, as Model.__init__ would."""
    seen = []

    class Recording:
        def __get__(self, instance, owner=None):
            return self if instance is None else instance.__dict__.get("title")

        def __set__(self, instance, value):
            seen.append(value)
            instance.__dict__["title"] = value

    monkeypatch.setattr(Ticket, "title", Recording())
    with _rechecked(monkeypatch):
        page = access.get_ticket_for_page(people["admin"], busy_ticket.number)
    assert seen == [busy_ticket.title] and page.title == busy_ticket.title
