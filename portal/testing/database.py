"""Real database failures for fault tests: no mocks of the driver.

- `unreachable_database()` / `database_unreachable`: points this process's connection at a
  database that is not there (a PostgreSQL port nobody listens on; a SQLite file in a
  folder that does not exist), so the real driver fails to connect as in an outage.
- `PostgresCluster` / `postgres_cluster`: a private PostgreSQL server in a temporary folder,
  on a free port, that a test may stop, start and restart under a running worker. The
  cluster is migrated once per module into a template database; each test gets a fresh
  copy with `new_database()`. PostgreSQL refuses to run as root, so as root the server
  runs as the `postgres` OS user.
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from portal.testing.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "portal_template"


@contextlib.contextmanager
def unreachable_database():
    """While inside, every query of this process fails to connect, as in an outage.

    Only in transactional tests: the usual test transaction cannot survive its connection
    being closed.
    """
    connection.close()
    saved = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-portal-dir/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = free_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def database_unreachable(transactional_db):
    """The whole test body runs with `unreachable_database()`."""
    with unreachable_database():
        yield


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._copies = 0

    def _run(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [*self.as_user, str(self.bin_dir / args[0]), *args[1:]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
            "-E", "UTF8",
        )  # fmt: skip
        self.start()

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, *args)

    def start(self) -> None:
        self._ctl("-w", "start")

    def stop(self) -> None:
        """Fast shutdown, as an operator's restart: open connections are terminated."""
        self._ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-w", "-m", "fast", "restart")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def sql(self, sql: str, *params, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def migrate_template(self) -> None:
        self.sql(f"CREATE DATABASE {TEMPLATE}")
        manage(self.url(TEMPLATE), "migrate", "--no-input", "-v0")

    def new_database(self) -> str:
        """A fresh, migrated database (a copy of the template); returns its URL."""
        self._copies += 1
        name = f"portal_fault_{self._copies}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-w", "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def manage(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` against `database_url`, as a separate process."""
    return subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", **env},
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def postgres_cluster():
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.init()
        cluster.migrate_template()
        yield cluster
    finally:
        cluster.destroy()
