"""The database time of the mixed load's pages: each GET page of `bench/run.py`'s load mix
requested once warm in process, its statements then timed on their own.

    BENCH_TICKETS=1000000 .venv/bin/python bench/mix_sql.py [--runs 9] [--only "dashboard"]
        [--setting "max_parallel_workers_per_gather=0"]

Per page: the median ms of each statement (wall time on a loopback connection of its own,
the rows fetched), summed; then the sum over the whole mix. With --setting, each statement
is timed again with that setting in force for the session, side by side. Statements are
timed as Django logged them (parameters written in), so the database plans each one anew,
like the portal's statements that are not prepared. Nothing is written but the sessions.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.run import build_scenarios, path_of, read_info  # noqa: E402


def timed(cursor, sql: str, runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        cursor.execute(sql)
        if cursor.description is not None:
            cursor.fetchall()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times[1:])  # the first run warms the cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--only", help="pages whose label contains this")
    parser.add_argument("--setting", help="also time with this SET, e.g. work_mem=8MB")
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest statements")
    args = parser.parse_args()
    url = common.database_url(common.database_name(common.tickets_from_env()))
    common.setup_django(url)
    info = read_info(url)

    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.accounts.models import User

    scenarios, _notes = build_scenarios(info)
    mix = [s for s in scenarios if s.load and s.method == "GET"]
    if args.only:
        mix = [s for s in mix if args.only in s.page]
    clients = {}
    plain = psycopg.connect(url, autocommit=True)
    changed = psycopg.connect(url, autocommit=True) if args.setting else None
    if changed is not None:
        name, value = args.setting.split("=", 1)
        changed.execute("SELECT set_config(%s, %s, false)", [name.strip(), value.strip()])
    totals = [0.0, 0.0]
    slowest = []
    for scenario in mix:
        if scenario.role not in clients:
            client = Client()
            client.force_login(User.objects.get(pk=info["personas"][scenario.role]["id"]))
            client.get("/dashboard")
            clients[scenario.role] = client
        client = clients[scenario.role]
        client.get(path_of(scenario, 0))  # warm: caches filled, sessions refreshed
        with CaptureQueriesContext(connection) as queries:
            client.get(path_of(scenario, 0))
        statements = [q["sql"] for q in queries.captured_queries]
        with plain.cursor() as cursor:
            ms = [timed(cursor, sql, args.runs) for sql in statements]
        line = f"{scenario.key}: {len(statements)} statements, {sum(ms):.2f} ms"
        totals[0] += sum(ms)
        if changed is not None:
            with changed.cursor() as cursor:
                other = [timed(cursor, sql, args.runs) for sql in statements]
            totals[1] += sum(other)
            line += f"; with {args.setting}: {sum(other):.2f} ms"
        slowest += [(t, scenario.key, sql[:160]) for t, sql in zip(ms, statements, strict=True)]
        print(line, flush=True)
    print(f"whole mix ({len(mix)} pages): {totals[0]:.1f} ms of statements", end="")
    print(f"; with {args.setting}: {totals[1]:.1f} ms" if changed is not None else "")
    for t, key, sql in sorted(slowest, reverse=True)[: args.slowest]:
        print(f"  {t:.2f} ms  {key}  {sql}")


if __name__ == "__main__":
    main()
