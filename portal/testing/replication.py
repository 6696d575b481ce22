"""A private PostgreSQL primary with a streaming replica, and Django pointed at both.

`replicated_postgres` (module scope): a primary (`PostgresCluster`, migrated once) and a hot
standby made from it with `pg_basebackup -R`, each on its own free loopback port, so a test
may pause replay, stop or start the replica under a running portal. `using_databases(...)`
points this process's "default" and "replica" aliases (and the router) at them for the
duration of a `with` block, and puts the test database back afterwards.
"""

import contextlib
import time
from pathlib import Path

import dj_database_url
import pytest
from asgiref.local import Local
from django.db import connections, router

from portal.core.db_router import ReplicaRouter
from portal.lib.replica import health
from portal.testing.database import PostgresCluster, _bin_dir


class ReplicaCluster(PostgresCluster):
    def init_from(self, primary: PostgresCluster) -> None:
        self.dir.mkdir(exist_ok=True)
        self._run(
            "pg_basebackup", "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
            "--no-sync", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        )  # fmt: skip
        self.start()

    def _ctl(self, *args: str) -> None:
        # hot_standby is on by default; a short status interval makes lag visible quickly.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c wal_receiver_status_interval=1"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, *args)

    def caught_up_with(self, primary: PostgresCluster, database: str, timeout: float = 20) -> None:
        """Wait until everything the primary committed so far is replayed here."""
        (target,) = primary.sql("SELECT pg_current_wal_lsn()::text")[0]
        deadline = time.monotonic() + timeout
        while True:
            (done,) = self.sql(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target, database=database
            )[0]
            if done:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not catch up in time")
            time.sleep(0.05)  # polling a condition, not waiting for a guessed duration


class Replicated:
    def __init__(self, primary: PostgresCluster, replica: ReplicaCluster, database: str):
        self.primary, self.replica, self.database = primary, replica, database

    @property
    def primary_url(self) -> str:
        return self.primary.url(self.database)

    @property
    def replica_url(self) -> str:
        return self.replica.url(self.database)

    def caught_up(self) -> None:
        self.replica.caught_up_with(self.primary, self.database)


@pytest.fixture(scope="module")
def replicated_postgres():
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "pg_basebackup").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed")
    primary = PostgresCluster(bin_dir)
    replica = ReplicaCluster(bin_dir)
    try:
        primary.init()
        primary.migrate_template()
        database = Path(primary.new_database()).name
        replica.init_from(primary)
        yield Replicated(primary, replica, database)
    finally:
        replica.destroy()
        primary.destroy()


def _alias(url: str, **options) -> dict:
    config = dj_database_url.parse(url, conn_max_age=0)
    config["OPTIONS"] = {"connect_timeout": 2, **options}
    config["CONN_HEALTH_CHECKS"] = True
    return config


@contextlib.contextmanager
def using_databases(primary_url: str, replica_url: str):
    """This process's "default" is `primary_url` and "replica" `replica_url`, routed by
    ReplicaRouter, until the block ends. For tests that are not in a test transaction."""
    connections.close_all()
    saved_settings = connections.__dict__.get("settings")
    saved_connections = connections._connections
    saved_routers = router.__dict__.get("routers")
    configured = connections.configure_settings(
        {"default": _alias(primary_url), "replica": _alias(replica_url)}
    )
    connections.__dict__["settings"] = configured
    connections._connections = Local(connections.thread_critical)
    router.__dict__["routers"] = [ReplicaRouter()]
    health.forget()
    try:
        yield
    finally:
        connections.close_all()
        connections._connections = saved_connections
        if saved_settings is None:
            connections.__dict__.pop("settings", None)
        else:
            connections.__dict__["settings"] = saved_settings
        if saved_routers is None:
            router.__dict__.pop("routers", None)
        else:
            router.__dict__["routers"] = saved_routers
        health.forget()
