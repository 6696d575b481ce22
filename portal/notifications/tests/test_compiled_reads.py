"""Reads compiled once per process (`portal.lib.compiled`) answer as the ORM does: with
other values, other numbers of values (an `IN` list of another length) and on every
backend, converted as the ORM converts; a value the ORM would rewrite is refused instead of
misread."""

import pytest
from django.db import connection
from django.utils import timezone

from portal.accounts.models import User
from portal.lib import compiled
from portal.notifications.kinds import get_kind
from portal.notifications.models import EmailPreference
from portal.notifications.services import _preferences, wants_email

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _people(n: int) -> list[User]:
    return [
        User.objects.create_user(f"p{i}@example.com", "x", full_name=f"P {i}") for i in range(n)
    ]


def test_preferences_compiled_once_answer_as_the_orm_for_any_number_of_people_and_kinds():
    people = _people(5)
    kinds = ["ticket_created", "ticket_comment", "ticket_status"]
    for i, person in enumerate(people):
        for j, kind in enumerate(kinds):
            if (i + j) % 2:
                EmailPreference.objects.create(user=person, kind=kind, email=bool(i % 3))
    for n_people in (1, 2, 5, 2):
        for n_kinds in (1, 3, 2):
            ids = sorted(p.pk for p in people[:n_people])
            names = sorted(kinds[:n_kinds])
            expected = set(_preferences(ids, names))
            got = set(
                compiled.rows(
                    f"test.preferences.{n_people}",
                    lambda *v, n=n_people: _preferences(v[:n], v[n:]),
                    [*ids, *names],
                )
            )
            assert {(u, k, bool(e)) for u, k, e in got} == expected


def test_email_preferences_are_honoured_through_the_compiled_read(personas):
    EmailPreference.objects.create(user=personas.agent, kind="ticket_comment", email=False)
    EmailPreference.objects.create(user=personas.lead, kind="ticket_comment", email=True)
    EmailPreference.objects.create(user=personas.lead, kind="ticket_status", email=False)
    comment, status = get_kind("ticket_comment"), get_kind("ticket_status")
    group = [personas.agent, personas.lead, personas.requester]
    wants = wants_email([group, group], [comment, status])
    assert wants(personas.agent.pk, comment) is False
    assert wants(personas.lead.pk, comment) is True
    assert wants(personas.lead.pk, status) is False
    assert wants(personas.requester.pk, comment) is comment.email_by_default
    assert wants(personas.agent.pk, status) is status.email_by_default


def test_a_value_the_orm_rewrites_is_refused_when_the_statement_is_built():
    with pytest.raises(AssertionError, match="none of its values"):
        compiled.rows(
            "test.contains",
            lambda name: User.objects.filter(full_name__contains=name).values_list("pk"),
            ["P"],
        )


def test_only_integers_text_and_times_are_filled_in():
    with pytest.raises(TypeError):
        compiled.rows(
            "test.bool", lambda flag: User.objects.filter(is_active=flag).values_list("pk"), [True]
        )


def test_a_statement_that_depends_on_more_than_its_values_is_refused():
    """A time read while building would be frozen into the process's statement."""
    with pytest.raises(AssertionError, match="none of its values"):
        compiled.rows(
            "test.now",
            lambda pk: User.objects.filter(pk=pk, date_joined__lt=timezone.now()).values_list("pk"),
            [1],
        )


def test_a_name_taken_by_another_statement_is_refused():
    compiled.rows("test.taken", lambda pk: User.objects.filter(pk=pk).values_list("pk"), [1])
    with pytest.raises(AssertionError, match="another compiled statement"):
        compiled.rows("test.taken", lambda pk: User.objects.filter(pk=pk).values_list("email"), [1])


def test_rows_come_converted_as_the_orms_values_list():
    """A boolean and a time read as the ORM reads them (SQLite: 0/1 and text otherwise)."""
    person = _people(1)[0]
    got = compiled.rows(
        "test.converted",
        lambda pk: User.objects.filter(pk=pk).values_list("pk", "is_active", "date_joined"),
        [person.pk],
    )
    assert got == [(person.pk, True, person.date_joined)]
    assert got == list(
        User.objects.filter(pk=person.pk).values_list("pk", "is_active", "date_joined")
    )


def test_a_time_is_filled_in_as_the_orm_adapts_it_on_every_backend():
    people = _people(3)
    joined = [person.date_joined for person in people]

    def build(moment, pk):
        return User.objects.filter(date_joined__gte=moment, pk__gte=pk).values_list("pk")

    for moment in (*joined, joined[0] - timezone.timedelta(days=1), timezone.now()):
        expected = list(build(moment, people[0].pk).order_by("pk"))
        got = sorted(compiled.rows("test.joined since", build, [moment, people[0].pk]))
        assert got == expected


def test_a_value_the_sql_does_not_read_is_refused_unless_its_place_may_go_unread():
    person = _people(1)[0]

    def build(pk, unused):
        return User.objects.filter(pk=pk).values_list("email")

    with pytest.raises(AssertionError, match="not parameters"):
        compiled.rows("test.unused refused", build, [person.pk, 7])
    with pytest.raises(AssertionError, match=r"values \[1\] are not parameters"):
        compiled.rows(
            "test.unused, another place allowed", build, [person.pk, 7], may_be_unused={0}
        )
    got = compiled.rows("test.unused allowed", build, [person.pk, 7], may_be_unused={1})
    assert got == [(person.email,)]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's integer columns all take 64 bits: the ORM drops no condition there",
)
def test_a_condition_the_orm_drops_for_a_stand_in_is_refused():
    # A small integer column cannot take a 32-bit stand-in: the ORM drops `__gte` (every
    # row would match) or empties `exact`. The value is then none of the SQL's parameters,
    # and the statement is refused instead of silently reading more rows or none.
    from portal.catalog.models import BusinessUnitGroup

    def at_least(days):
        return BusinessUnitGroup.objects.filter(hold_reminder_days__gte=days).values_list("pk")

    def exactly(days):
        return BusinessUnitGroup.objects.filter(hold_reminder_days=days).values_list("pk")

    for name, build in (("at least", at_least), ("exactly", exactly)):
        with pytest.raises(AssertionError, match="not parameters|can match nothing"):
            compiled.rows(f"test.small integer {name}", build, [3])


def test_the_statements_kept_are_bounded_and_the_least_recently_used_goes_first(monkeypatch):
    person = _people(1)[0]
    monkeypatch.setattr(compiled, "_shapes", compiled._Kept(limit=3))

    def build(pk):
        return User.objects.filter(pk=pk).values_list("email")

    for n in range(3):
        compiled.rows(f"test.bounded {n}", build, [person.pk], shaped=True)
    compiled.rows("test.bounded 0", build, [person.pk], shaped=True)  # used again: kept
    for n in range(3, 10):
        got = compiled.rows(f"test.bounded {n}", build, [person.pk], shaped=True)
        assert got == [(person.email,)]
        assert len(compiled._shapes) == 3
    assert [key[0] for key in compiled._shapes] == [f"test.bounded {n}" for n in (7, 8, 9)]
    compiled.rows("test.bounded 0", build, [person.pk], shaped=True)
    assert "test.bounded 0" in [key[0] for key in compiled._shapes]


def test_shapes_never_push_out_the_codes_own_statements(monkeypatch):
    person = _people(1)[0]
    monkeypatch.setattr(compiled, "_shapes", compiled._Kept(limit=2))

    def build(pk):
        return User.objects.filter(pk=pk).values_list("email")

    compiled.rows("test.own read", build, [person.pk])
    for n in range(5):
        compiled.rows(f"test.shape {n}", build, [person.pk], shaped=True)
    assert any(key[0] == "test.own read" for key in compiled._statements)


def test_a_build_that_runs_a_statement_is_refused():
    # What it read would be kept in the statement for the life of the process.
    person = _people(1)[0]

    def build(pk):
        first = User.objects.order_by("pk").first()  # data, read while building
        return User.objects.filter(pk=pk, is_active=first.is_active).values_list("email")

    with pytest.raises(AssertionError, match="ran one"):
        compiled.rows("test.reads data", build, [person.pk])
