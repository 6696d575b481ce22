"""A signed-in request reads its session and its user in one statement, and Django's
`auth.get_user` still decides who is signed in: a deactivated account, a password changed
elsewhere or another session's row never signs anybody in (docs/security.md)."""

import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.core.signals import request_finished
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.accounts import session_user
from portal.accounts.models import User, UserSession
from portal.accounts.session_store import SessionStore
from portal.accounts.sessions import sessions_end_for_user
from portal.accounts.tests.test_sso import sign_in

pytestmark = pytest.mark.django_db

PASSWORD_BACKEND = "portal.accounts.backends.PasswordBackend"
LEGACY_BACKEND = "django.contrib.auth.backends.ModelBackend"
# An htmx poll of the bell: no page view, its count cached after the first poll. What it
# costs beyond that is what every signed-in request costs.
POLL = "/notifications/bell"


def _poll(client) -> tuple[object, list[str]]:
    """Who the poll was made for, and its statements."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(POLL, headers={"HX-Request": "true"})
    return response.wsgi_request.user, [q["sql"] for q in queries.captured_queries]


def _warm(client) -> Client:
    client.get(POLL, headers={"HX-Request": "true"})  # the idle refresh, the bell's count
    return client


def _fields(user: User) -> dict:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def _session_of(user: User, *, backend: str, link: bool = True) -> str:
    """A session signed in to `user` as `login` leaves it (with its `UserSession` row)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    if link:
        UserSession.objects.create(user=user, session_key=store.session_key)
    return store.session_key


def _client_with(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def test_a_signed_in_request_reads_session_and_user_in_one_statement(personas, client_for):
    client = _warm(client_for(personas.agent))
    user, statements = _poll(client)
    assert user == personas.agent
    assert len(statements) == 1
    assert "django_session" in statements[0] and "accounts_user" in statements[0]


def test_the_user_read_with_the_session_is_the_one_the_orm_reads(personas, client_for):
    boss = personas.lead
    User.objects.filter(pk=personas.agent.pk).update(manager=boss, on_triage_duty=True)
    client = _warm(client_for(personas.agent))
    lazy, statements = _poll(client)
    assert len(statements) == 1  # read with the session
    ours = lazy._wrapped  # auth's SimpleLazyObject, evaluated by the request
    orm = User.objects.filter(pk=personas.agent.pk).get()  # a queryset's get: the ORM's
    assert type(ours) is User
    assert _fields(ours) == _fields(orm) == _fields(User.objects.get(pk=personas.agent.pk))
    assert ours.manager_id == boss.pk and ours.on_triage_duty is True
    assert ours.last_login is not None and ours.last_login.tzinfo is not None
    assert (ours._state.db, ours._state.adding) == (orm._state.db, orm._state.adding)
    assert ours.get_deferred_fields() == set()


def test_a_deactivated_account_is_signed_out_at_the_next_request(personas, client_for):
    client = _warm(client_for(personas.agent))
    User.objects.filter(pk=personas.agent.pk).update(is_active=False)  # no service: no ending
    user, _ = _poll(client)
    assert isinstance(user, AnonymousUser)


def test_a_password_changed_elsewhere_signs_the_session_out(personas, client_for):
    client = _warm(client_for(personas.agent))
    account = User.objects.get(pk=personas.agent.pk)
    account.set_password("another long password 456")
    account.save()  # the model's save, not the service: only the session hash is left
    user, _ = _poll(client)
    assert isinstance(user, AnonymousUser)
    assert client.session.get(SESSION_KEY) is None  # flushed by auth.get_user


def test_a_session_of_the_old_backend_path_stays_signed_in(personas):
    key = _session_of(personas.agent, backend=LEGACY_BACKEND)
    client = _warm(_client_with(key))  # the idle refresh saves the session
    user, statements = _poll(client)
    assert user == personas.agent and len(statements) == 1
    saved = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert saved.get_decoded()[BACKEND_SESSION_KEY] == PASSWORD_BACKEND


def test_a_session_without_its_row_signs_in_with_a_second_statement(personas):
    client = _warm(_client_with(_session_of(personas.agent, backend=PASSWORD_BACKEND, link=False)))
    user, statements = _poll(client)
    assert user == personas.agent
    assert len(statements) == 2 and "accounts_user" in statements[1]


def test_clients_taking_turns_in_one_thread_each_get_their_own_user(personas, client_for):
    agent, lead = _warm(client_for(personas.agent)), _warm(client_for(personas.lead))
    anonymous = Client()
    for _ in range(2):
        assert _poll(agent)[0] == personas.agent
        assert isinstance(_poll(anonymous)[0], AnonymousUser)
        assert _poll(lead)[0] == personas.lead
        assert _poll(agent)[0] == personas.agent


def test_a_row_read_with_one_session_never_serves_another():
    ann = User.objects.create_user("ann@example.com", "a long password 123")
    bob = User.objects.create_user("bob@example.com", "a long password 123")
    ann_key = _session_of(ann, backend=PASSWORD_BACKEND)
    bob_key = _session_of(bob, backend=PASSWORD_BACKEND)
    SessionStore(session_key=ann_key).load()
    SessionStore(session_key=bob_key).load()  # replaces Ann's row
    assert session_user.take(ann.pk) is None
    SessionStore(session_key=ann_key).load()
    assert session_user.take(ann.pk) == ann
    assert session_user.take(ann.pk) is None  # taken once
    SessionStore(session_key=ann_key).load()
    SessionStore(session_key="no-such-session").load()  # an anonymous read clears it
    assert session_user.take(ann.pk) is None


def test_nothing_read_for_a_request_outlives_it(personas):
    # A session read whose user nothing asked for, then the end of the request.
    SessionStore(session_key=_session_of(personas.agent, backend=PASSWORD_BACKEND)).load()
    request_finished.send(sender=None)
    assert session_user.take(personas.agent.pk) is None


def test_a_failed_session_read_leaves_no_earlier_row(personas, monkeypatch):
    key = _session_of(personas.agent, backend=PASSWORD_BACKEND)
    SessionStore(session_key=key).load()  # the agent's row kept, nothing took it

    def refused(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(session_user, "_statement", refused)
    with pytest.raises(RuntimeError):
        SessionStore(session_key=key).load()
    assert session_user.take(personas.agent.pk) is None


def test_a_company_sign_in_reads_its_user_with_the_session(client, oidc_provider):
    from portal.testing.oidc import employee

    oidc_provider.set_user("ann-sub", **employee("ann@example.com"))
    assert sign_in(client, oidc_provider, "ann-sub")["Location"] == "/dashboard"
    assert client.session[BACKEND_SESSION_KEY] == "portal.accounts.sso.backend.SsoBackend"
    _warm(client)
    user, statements = _poll(client)
    assert user.email == "ann@example.com" and len(statements) == 1
    User.objects.filter(email="ann@example.com").update(is_active=False)
    assert isinstance(_poll(client)[0], AnonymousUser)


def test_a_session_verified_by_an_old_secret_keeps_its_row(personas, client_for, settings):
    old_secret = settings.SECRET_KEY
    client = _warm(client_for(personas.agent))
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    settings.SECRET_KEY = "a new secret key of fifty characters or more, 0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    user, _ = _poll(client)  # verified by the fallback: Django cycles the key
    assert user == personas.agent
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != before and not UserSession.objects.filter(session_key=before).exists()
    assert UserSession.objects.filter(session_key=key, user=personas.agent).exists()
    user, statements = _poll(client)
    assert user == personas.agent and len(statements) == 1
    assert sessions_end_for_user(personas.agent) == 1  # still tracked: it can be ended
    assert isinstance(_poll(client)[0], AnonymousUser)


def test_a_session_ended_before_its_key_changes_is_signed_out_not_cycled(personas):
    """The ending came first: the cycle finds its session gone and signs it out instead of
    saving it again under a new key nobody tracks."""
    key = _session_of(personas.agent, backend=PASSWORD_BACKEND)
    store = SessionStore(key)
    assert store[SESSION_KEY] == str(personas.agent.pk)  # loaded before the ending
    assert sessions_end_for_user(personas.agent) == 1
    store.cycle_key()
    assert SESSION_KEY not in store and store.session_key is None
    signed_in = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
    assert str(personas.agent.pk) not in signed_in
    assert not UserSession.objects.filter(user=personas.agent).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_ending_a_users_sessions_during_a_key_change_ends_the_new_key(personas, monkeypatch):
    """The key changes first and the ending waits for it (both lock the session's row):
    the ending then finds the row under its new key and ends that session. Without the
    lock the ending would delete the old key, already gone, and leave the new one alive."""
    key = _session_of(personas.agent, backend=PASSWORD_BACKEND)
    cycled, go = threading.Event(), threading.Event()
    django_cycle = db.SessionStore.cycle_key

    def cycle_then_wait(self):
        django_cycle(self)
        cycled.set()
        assert go.wait(timeout=10)  # the transaction stays open, its row locked

    monkeypatch.setattr(db.SessionStore, "cycle_key", cycle_then_wait)
    store = SessionStore(key)
    store.load()
    results = {}

    def change_key():
        store.cycle_key()
        results["new"] = store.session_key

    def end_sessions():
        results["ended"] = sessions_end_for_user(personas.agent)

    changing = threading.Thread(target=_closing(change_key))
    changing.start()
    assert cycled.wait(timeout=10)
    ending = threading.Thread(target=_closing(end_sessions))
    ending.start()
    _wait_for_a_lock_wait()
    go.set()
    changing.join(timeout=10)
    ending.join(timeout=10)
    assert results["new"] and results["new"] != key and results["ended"] == 1
    assert not Session.objects.filter(session_key__in=[key, results["new"]]).exists()
    assert not UserSession.objects.filter(user=personas.agent).exists()


def _closing(work):
    def run():
        try:
            work()
        finally:
            connections.close_all()

    return run


def _wait_for_a_lock_wait() -> None:
    """Until another connection waits for a row lock (the ending, behind the key change)."""
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the ending never waited for the key change's lock")
