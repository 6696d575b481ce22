"""`User.objects.get(pk=…)`, the read of every signed-in request's user, gives the account
the ORM's `QuerySet.get` gives: every field, converted as the backend converts it."""

import datetime as dt

import pytest
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from portal.accounts.models import User

pytestmark = pytest.mark.django_db


def _fields(user: User) -> dict:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


@pytest.fixture
def people() -> list[User]:
    boss = User.objects.create_user("boss@example.com", "pw", full_name="Ann Boss")
    return [
        boss,
        User.objects.create_user("plain@example.com", None),  # no name, unusable password
        User.objects.create_user(
            "deputy@example.com", "pw", full_name="Ö Déput'y", manager=boss, on_triage_duty=True
        ),
        User.objects.create_superuser("root@example.com", "pw", full_name="Root"),
        User.objects.create_user("gone@example.com", "pw", is_active=False),
    ]


def test_an_account_by_id_is_the_one_the_orm_reads(people):
    User.objects.filter(pk=people[0].pk).update(
        last_login=timezone.now() - dt.timedelta(days=3, microseconds=7)
    )
    for person in people:
        ours = User.objects.get(pk=person.pk)
        orm = User.objects.filter(pk=person.pk).get()  # a queryset's get: the ORM's
        assert type(ours) is User
        assert _fields(ours) == _fields(orm)
        assert (ours._state.db, ours._state.adding) == (orm._state.db, orm._state.adding)
        assert ours.last_login is None or ours.last_login.tzinfo is not None
        ours.full_name += "!"
        ours.save(update_fields=["full_name"])  # a usable instance
        assert User.objects.filter(pk=person.pk).get().full_name == ours.full_name


def test_a_missing_account_raises_as_the_orm_does(people):
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=999_999_999)


def test_signing_in_reads_the_account_with_one_statement(people, django_assert_num_queries):
    backend = ModelBackend()
    with django_assert_num_queries(1):
        assert backend.get_user(people[2].pk) == people[2]
    assert backend.get_user(people[4].pk) is None  # deactivated: not signed in
    assert backend.get_user(999_999_999) is None


def test_a_related_managers_get_by_id_keeps_its_filter(people):
    # Django's related managers subclass the default manager: `boss.reports.get(pk=…)` must
    # not find an account outside `reports` (nor `ticket.watchers.get(pk=…)` a non-watcher).
    boss, plain, deputy = people[:3]
    assert boss.reports.get(pk=deputy.pk) == deputy
    with pytest.raises(User.DoesNotExist):
        boss.reports.get(pk=plain.pk)


def test_other_reads_are_the_orms(people):
    assert User.objects.get(email="boss@example.com") == people[0]
    assert User.objects.get(pk=str(people[0].pk)) == people[0]


def test_a_migrations_historical_account_model_has_its_own_statement(people):
    # A data migration's User is another class with the columns of its time: it must never
    # be read with the statement of today's model (nor today's with its).
    from django.apps import apps as current_apps
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    state = MigrationExecutor(connection).loader.project_state(("accounts", "0001_initial"))
    Historical = state.apps.get_model("accounts", "User")
    assert Historical is not current_apps.get_model("accounts", "User")
    old = Historical.objects.get(pk=people[0].pk)
    orm = Historical.objects.filter(pk=people[0].pk).get()
    assert type(old) is Historical and old.email == people[0].email
    assert old.get_deferred_fields() == set()  # every column of its time, none of today's
    assert {f.attname: getattr(old, f.attname) for f in Historical._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in Historical._meta.concrete_fields
    }
    now = User.objects.get(pk=people[0].pk)
    assert now.get_deferred_fields() == set()  # on_triage_duty and manager_id included
    assert type(now) is User and _fields(now) == _fields(people[0]) | {"last_login": None}
