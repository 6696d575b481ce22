"""Statements sent together (`portal.lib.together`): each one's rows as its own `execute`
would give them, in one round trip on PostgreSQL, and a failure that leaves nothing of the
message behind."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.lib import compiled, together

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
