"""The read replica on real engines: a private PostgreSQL primary and a streaming replica
made with pg_basebackup. Analytics and searches read from the replica, writes and everything
else from the primary; whoever just wrote reads their own writes; a replica that lags past
REPLICA_MAX_LAG_SECONDS or stops answering is skipped without an error."""

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.lib.replica import health
from portal.testing.org import make_org
from portal.testing.personas import make_personas
from portal.testing.replication import replicated_postgres, using_databases  # noqa: F401
from portal.tickets.models import Ticket
from portal.tickets.services import ticket_create

pytestmark = [pytest.mark.scale]


@pytest.fixture(scope="module")
def portal_on_replica(replicated_postgres, django_db_blocker):  # noqa: F811
    """The portal pointed at the pair, with people, an organisation and one ticket."""
    with django_db_blocker.unblock():
        with using_databases(replicated_postgres.primary_url, replicated_postgres.replica_url):
            personas = make_personas()
            org = make_org(personas)
            ticket_create(
                requester=personas.requester, title="Laptop will not boot", description="-",
                group=org.group_x, category=org.hardware, subcategory=org.laptop,
            )  # fmt: skip
            replicated_postgres.caught_up()
            yield replicated_postgres, personas, org


@pytest.fixture
def pair(portal_on_replica, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 3600  # replay is paused in some tests
    settings.REPLICA_CHECK_SECONDS = 1
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 60
    health.forget()
    replicated, personas, org = portal_on_replica
    yield portal_on_replica
    replicated.replica.sql("SELECT pg_wal_replay_resume()")
    health.forget()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries_on(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def ticket_tables(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"tickets_ticket"' in q["sql"]]


def new_ticket_behind_the_replica(replicated, personas, org, title: str) -> Ticket:
    """A ticket committed on the primary while the replica has stopped replaying."""
    replicated.replica.sql("SELECT pg_wal_replay_pause()")
    return ticket_create(
        requester=personas.requester, title=title, description="-",
        group=org.group_x, category=org.hardware, subcategory=org.printer,
    )  # fmt: skip


def test_analytics_reads_tickets_from_the_replica_and_the_session_from_the_primary(pair):
    _, personas, _ = pair
    admin = signed_in(personas.admin)
    with queries_on("replica") as replica, queries_on("default") as primary:
        response = admin.get("/analytics")
    assert response.status_code == 200
    print(len(replica.captured_queries), health.reason)
    assert ticket_tables(replica), "analytics read no tickets from the replica"
    assert not ticket_tables(primary)
    assert any('"django_session"' in q["sql"] for q in primary.captured_queries)
    assert not any('"django_session"' in q["sql"] for q in replica.captured_queries)
    # The signed-in user is read with the session, on the primary (accounts/session_user.py).
    session = next(q["sql"] for q in primary.captured_queries if '"django_session"' in q["sql"])
    assert '"accounts_user"' in session


def test_a_search_reads_from_the_replica_and_a_plain_list_from_the_primary(pair):
    replicated, personas, org = pair
    new_ticket_behind_the_replica(replicated, personas, org, "Printer jams on tray 2")
    admin = signed_in(personas.admin)

    searched = admin.get("/tickets", {"q": "printer"})
    listed = admin.get("/tickets")

    assert searched.status_code == listed.status_code == 200
    assert "Printer jams on tray 2" not in searched.text  # the replica has not replayed it
    assert "Printer jams on tray 2" in listed.text  # the primary has


def test_writes_go_to_the_primary_and_the_writer_then_reads_their_own_writes(pair):
    replicated, personas, org = pair
    ticket = new_ticket_behind_the_replica(replicated, personas, org, "Printer out of toner")
    requester = signed_in(personas.requester)
    someone_else = signed_in(personas.admin)

    with queries_on("replica") as replica:
        posted = requester.post(
            f"/tickets/{ticket.number}/comments", {"body": "Still no toner in the printer"}
        )
    assert posted.status_code == 302
    assert not replica.captured_queries  # nothing of a write touches the replica

    # The requester's next search comes from the primary: they see their ticket at once.
    with queries_on("replica") as replica:
        theirs = requester.get("/tickets", {"q": "toner"})
    assert ticket.number in theirs.text
    assert not ticket_tables(replica)
    # Someone who wrote nothing still reads the replica, which has not caught up.
    assert ticket.number not in someone_else.get("/tickets", {"q": "toner"}).text


def test_a_replica_lagging_past_the_bound_is_skipped(pair, settings):
    replicated, personas, org = pair
    ticket = new_ticket_behind_the_replica(replicated, personas, org, "Printer offline again")
    wait_until_received(replicated)
    settings.REPLICA_MAX_LAG_SECONDS = 0  # any lag at all is too much
    health.forget()

    with queries_on("replica") as replica:
        response = signed_in(personas.admin).get("/tickets", {"q": "offline"})

    assert ticket.number in response.text
    assert not ticket_tables(replica)


def test_stopping_the_replica_sends_reads_to_the_primary_without_an_error(pair, settings):
    replicated, personas, _ = pair
    settings.REPLICA_CHECK_SECONDS = 3600  # no new check: the failed read itself must tell
    admin = signed_in(personas.admin)
    assert admin.get("/analytics").status_code == 200  # the replica is known to be up
    replicated.replica.stop()
    try:
        # Within the check interval the router still trusts it: the read fails on the
        # replica and the page is served from the primary instead.
        assert health.usable
        for path in (
            "/analytics",
            "/tickets?q=laptop",
            "/tickets/export.csv?q=laptop",
            "/help/export.csv",
        ):
            response = admin.get(path)
            assert response.status_code == 200, path
        assert not health.usable
        assert health.reason == "unreachable (OperationalError)"  # found by the failed read
        export = b"".join(admin.get("/tickets/export.csv").streaming_content)
        assert b"Laptop will not boot" in export
    finally:
        replicated.replica.start()
        health.forget()


def wait_until_received(replicated) -> None:
    """Until the paused replica has received (not replayed) the primary's latest WAL."""
    import time

    (target,) = replicated.primary.sql("SELECT pg_current_wal_lsn()::text")[0]
    deadline = time.monotonic() + 20
    while not replicated.replica.sql("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", target)[0][
        0
    ]:
        assert time.monotonic() < deadline, "the replica received nothing"
        time.sleep(0.05)  # polling a condition
