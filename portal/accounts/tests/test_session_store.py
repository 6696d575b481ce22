"""The session store reads a session as Django's database store does: the same data for a
live session, nothing (and no key kept) for an expired, ended or made-up one."""

import datetime as dt

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal.accounts.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _both(key: str | None) -> list[tuple[dict, str | None]]:
    """(data, key kept) as this store and Django's read `key`."""
    answers = []
    for store_class in (SessionStore, db.SessionStore):
        store = store_class(session_key=key)
        answers.append((dict(store.items()), store.session_key))
    return answers


def _saved(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    assert store.session_key is not None
    return store.session_key


def test_a_live_session_reads_as_djangos_store_reads_it():
    key = _saved(_auth_user_id="42", note="café & <b>")
    ours, django = _both(key)
    assert ours == django == ({"_auth_user_id": "42", "note": "café & <b>"}, key)


def test_an_expired_session_is_no_session():
    key = _saved(_auth_user_id="42")
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    ours, django = _both(key)
    assert ours == django == ({}, None)


@pytest.mark.parametrize("key", ["x" * 32, "not-a-key", None])
def test_an_ended_or_made_up_session_is_no_session(key):
    if key == "x" * 32:
        key = _saved(_auth_user_id="42")
        SessionStore(session_key=key).delete()
    ours, django = _both(key)
    assert ours == django == ({}, None)


def test_a_session_read_is_one_statement(django_assert_num_queries):
    key = _saved(_auth_user_id="42")
    with django_assert_num_queries(1):
        assert SessionStore(session_key=key)["_auth_user_id"] == "42"
