"""A retention run over a month's data while pages are served (docs/benchmarks.md).

Runs on a copy of a benchmark database (`CREATE DATABASE … TEMPLATE portal_bench_<n>`, or
pg_dump | pg_restore while others are connected to it), so the shared one keeps its rows.
The data set holds 90 days of notifications; with RETENTION_NOTIFICATION_DAYS=60 the
oldest month of them is past its period (the other rules as configured by default).
The run goes in a process of its own (as the worker's would), timing each batch's
transaction; this process meanwhile loads pages as three personas, and the same pages are
timed before the run for comparison.

    BENCH_TICKETS=100000 .venv/bin/python bench/retention_run.py
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402
from bench.run import read_info  # noqa: E402

PAGES = [("admin", "/tickets"), ("agent", "/dashboard"), ("requester", "/notifications")]
PERIOD_DAYS = 60


def copy_database(source: str, copy: str) -> str:
    """A copy of `source`: by template when nobody is connected to it, else by pg_dump
    piped into pg_restore (a consistent snapshot while others use the database)."""
    import psycopg

    admin = common.conninfo(common.database_url("postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        try:
            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
            return common.database_url(copy)
        except psycopg.errors.ObjectInUse:
            conn.execute(f'CREATE DATABASE "{copy}"')
    tools = {name: shutil.which(name) or name for name in ("pg_dump", "pg_restore")}
    dump = subprocess.Popen(  # noqa: S603 (PostgreSQL's tools, database names we built)
        [tools["pg_dump"], "-Fc", "-d", common.conninfo(common.database_url(source))],
        stdout=subprocess.PIPE,
    )
    subprocess.run(  # noqa: S603
        [tools["pg_restore"], "--no-owner", "-d", common.conninfo(common.database_url(copy))],
        stdin=dump.stdout, check=True,
    )  # fmt: skip
    if dump.wait() != 0:
        raise SystemExit(f"pg_dump of {source} failed")
    return common.database_url(copy)


def run_retention(url: str) -> None:
    """The child: migrate the copy, then one retention run with each batch timed."""
    common.setup_django(url)
    from django.conf import settings
    from django.core.management import call_command

    from portal.retention import services

    call_command("migrate", verbosity=0)
    settings.RETENTION_NOTIFICATION_DAYS = PERIOD_DAYS
    batches: list[float] = []
    plain = services.delete_batch

    def timed(queryset, batch):
        start = time.perf_counter()
        try:
            return plain(queryset, batch)
        finally:
            batches.append((time.perf_counter() - start) * 1000)

    services.delete_batch = timed
    start = time.perf_counter()
    run = services.retention_run()
    print(json.dumps({"seconds": time.perf_counter() - start, "counts": run.counts,
                      "batches_ms": batches}))  # fmt: skip


def _lock_waits(url: str, waits: list[int], child) -> None:
    """How many lock requests on the copy wait (not granted), every 50 ms of the run."""
    import psycopg

    name = url.rsplit("/", 1)[-1]
    query = (
        # Row-lock waits are on a transaction id (no database column): match by backend.
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = %s"
    )
    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        while child.poll() is None:
            waits.append(conn.execute(query, [name]).fetchone()[0])
            time.sleep(0.05)


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"{statistics.median(samples):.0f} / {p95:.0f} / {samples[-1]:.0f}"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        run_retention(sys.argv[2])
        return
    tickets = common.tickets_from_env(100_000)
    source = common.database_name(tickets)
    url = copy_database(source, f"{common.PREFIX}retention_copy_{tickets}")
    env = {**os.environ, **common.production_env(url)}
    # The pages' process migrates nothing: the child does before it starts deleting.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity=0"], env=env, check=True,
        cwd=common.ROOT,
    )  # fmt: skip
    common.setup_django(url)
    info = read_info(url)
    from django.test import Client

    from portal.accounts.models import User
    from portal.notifications.models import Notification

    before = Notification.objects.count()
    clients = {}
    for role, _path in PAGES:
        clients[role] = Client()
        clients[role].force_login(User.objects.get(pk=info["personas"][role]["id"]))
        clients[role].get("/dashboard")

    def load(samples: dict[str, list[float]], stop) -> None:
        while not stop():
            for role, path in PAGES:
                start = time.perf_counter()
                response = clients[role].get(path)
                samples[path].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)

    baseline: dict[str, list[float]] = {path: [] for _role, path in PAGES}
    rounds = iter(range(20))
    load(baseline, lambda: next(rounds, None) is None)

    during: dict[str, list[float]] = {path: [] for _role, path in PAGES}
    child = subprocess.Popen(  # noqa: S603 (this script, with the URL it built)
        [sys.executable, __file__, "--child", url], env=env, stdout=subprocess.PIPE, text=True
    )
    loader = threading.Thread(target=load, args=(during, lambda: child.poll() is not None))
    waits: list[int] = []
    sampler = threading.Thread(target=_lock_waits, args=(url, waits, child))
    loader.start()
    sampler.start()
    out, _ = child.communicate()
    loader.join()
    sampler.join()
    result = json.loads(out.strip().splitlines()[-1])
    batches = result["batches_ms"]
    print(f"database {source} (copy), notifications {before:,} before the run")
    print(f"run: {result['seconds']:.1f} s, deleted {result['counts']}")
    print(f"batches: {len(batches)}, transaction ms median / p95 / max: {_percentiles(batches)}")
    print(
        f"lock waits on the copy, sampled every 50 ms ({len(waits)} samples): "
        f"{sum(1 for w in waits if w)} samples with a waiting lock, at most {max(waits, default=0)}"
    )
    print("page ms median / p95 / max (requests): before the run | during the run")
    for _role, path in PAGES:
        print(
            f"  {path}: {_percentiles(baseline[path])} ({len(baseline[path])}) | "
            f"{_percentiles(during[path])} ({len(during[path])})"
        )


if __name__ == "__main__":
    main()
