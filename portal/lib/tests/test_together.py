"""Statements sent together (`portal.lib.together`): each one's rows as its own `execute`
would give them, in one round trip on PostgreSQL, and a failure that leaves nothing of the
message behind; writes that wait for the end of a change, sent then, or never when it
fails."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.lib import compiled, inserts, together
from portal.notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _sql(text: str) -> str:
    """`text` with the users table and columns named as the model names them, quoted;
    every value stays a parameter."""
    quote = connection.ops.quote_name
    return text.format(
        table=quote(User._meta.db_table),
        id=quote(User._meta.get_field("id").column),
        email=quote(User._meta.get_field("email").column),
    )


def _separately(statements):
    rows = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            rows.append(cursor.fetchall() if cursor.description is not None else [])
    return rows


def test_each_statements_rows_come_as_its_own_execute_gives_them_in_one_round_trip():
    people = [User.objects.create_user(f"t{i}@example.com", "x") for i in range(3)]
    statements = [
        (_sql("SELECT {id}, {email} FROM {table} WHERE {email} = %s"), ["t1@example.com"]),
        # Values that need quoting, and a statement that matches nothing.
        (_sql("SELECT {email} FROM {table} WHERE {email} = %s"), ["o'neil; DROP TABLE x --"]),
        (_sql("SELECT {id} FROM {table} WHERE {id} IN (%s, %s) ORDER BY {id}"), [people[0].pk, 0]),
    ]
    with CaptureQueriesContext(connection) as sent:
        found = together.run(statements)
    assert found == _separately(statements)
    assert found == [[(people[1].pk, "t1@example.com")], [], [(people[0].pk,)]]
    assert len(sent.captured_queries) == (1 if together.in_one_round_trip() else 3)


def test_a_statement_without_rows_reads_as_none_and_its_write_is_made():
    found = together.run(
        [
            (_sql("UPDATE {table} SET {email} = %s WHERE {id} = %s"), ["new@example.com", 0]),
            (_sql("SELECT COUNT(*) FROM {table}"), []),
        ]
    )
    assert found == [[], [(User.objects.count(),)]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not together.in_one_round_trip(), reason="one message, one transaction: PostgreSQL's"
)
def test_a_failing_statement_leaves_nothing_of_the_message_behind():
    person = User.objects.create_user("kept@example.com", "x")
    statements = [
        (_sql("UPDATE {table} SET {email} = %s WHERE {id} = %s"), ["changed@x.com", person.pk]),
        (_sql("SELECT no_such_column FROM {table}"), []),
    ]
    with pytest.raises(DatabaseError):
        together.run(statements)  # no transaction open: the message is one
    person.refresh_from_db()
    assert person.email == "kept@example.com"


def test_compiled_reads_together_answer_as_each_read_alone():
    people = [
        User.objects.create_user(f"c{i}@example.com", "x", full_name=f"C {i}") for i in range(2)
    ]

    def by_email(email: str):
        return User.objects.filter(email=email).values_list("id", "is_active", "date_joined")

    def named(pk: int):
        return User.objects.filter(pk=pk).values_list("full_name", "is_staff")

    reads = [
        compiled.Read("tests.together by email", by_email, ["c0@example.com"]),
        compiled.Read("tests.together named", named, [people[1].pk]),
    ]
    alone = [compiled.rows(read.name, read.build, read.values) for read in reads]
    with CaptureQueriesContext(connection) as sent:
        found = compiled.rows_together(reads)
    assert found == alone
    # Converted as the ORM converts them (booleans and times from SQLite's text too).
    assert found[0] == list(by_email("c0@example.com"))
    assert found[1] == [("C 1", False)]
    assert len(sent.captured_queries) == (1 if together.in_one_round_trip() else 2)


def _notification(person: User, text: str) -> Notification:
    return Notification(recipient=person, kind="k", text=text, link="/x")


def test_writes_that_may_wait_go_in_one_round_trip_when_the_block_ends():
    person = User.objects.create_user("w@example.com", "x")
    first, second = _notification(person, "one"), _notification(person, "two")
    with CaptureQueriesContext(connection) as sent:
        with transaction.atomic(), together.writes_at_end():
            inserts.insert([first], later=True)
            inserts.insert([second], later=True)
            # Waiting: nothing sent yet, no ids.
            assert first.pk is None and second.pk is None
            assert not Notification.objects.filter(recipient=person).exists()
        assert first.pk is not None and second.pk is not None
    assert list(Notification.objects.filter(recipient=person).order_by("pk")) == [first, second]
    writes = [q["sql"] for q in sent.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == (1 if together.in_one_round_trip() else 2)


def test_outside_a_block_a_write_that_may_wait_runs_at_once():
    person = User.objects.create_user("now@example.com", "x")
    row = _notification(person, "now")
    inserts.insert([row], later=True)
    assert Notification.objects.filter(pk=row.pk, text="now").exists()


def test_a_block_that_raises_sends_none_of_its_waiting_writes():
    person = User.objects.create_user("r@example.com", "x")
    row = _notification(person, "never")
    with CaptureQueriesContext(connection) as sent, pytest.raises(ZeroDivisionError):
        with transaction.atomic(), together.writes_at_end():
            inserts.insert([row], later=True)
            1 / 0  # noqa: B018
    assert not any("INSERT" in q["sql"] for q in sent.captured_queries)
    assert row.pk is None and not Notification.objects.filter(recipient=person).exists()


def test_a_waiting_write_that_fails_undoes_the_whole_change():
    person = User.objects.create_user("f@example.com", "x")
    with pytest.raises(DatabaseError), transaction.atomic(), together.writes_at_end():
        Notification.objects.create(recipient=person, kind="k", text="made at once")
        inserts.insert([_notification(person, "fine")], later=True)
        together.write(_sql("SELECT no_such_column FROM {table}"), [], later=True)
    assert not Notification.objects.filter(recipient=person).exists()


@pytest.mark.django_db(transaction=True)
def test_writes_wait_only_inside_a_transaction():
    with pytest.raises(AssertionError, match="transaction"), together.writes_at_end():
        pass
