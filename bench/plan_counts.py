"""Which prepared statements PostgreSQL plans at every run, and which it planned once.

    BENCH_TICKETS=100000 .venv/bin/python bench/plan_counts.py \
        [--only "d ticket"] [--ticket TKT-002176] [--explain] [--timed]

Runs `bench/profile_pages.py`'s scenarios (those whose label holds `--only`) 40 times each
on one connection, then lists that connection's prepared statements
(`pg_prepared_statements`) with their generic and custom plan counts, most custom first.
A statement prepared (its sixth run) and still planned at every run shows custom plans
only: the connection's mode (`plan_cache_mode=force_custom_plan`, settings.py) unless it
was run with one plan (`portal.lib.plans`).

`--explain`: also each SELECT of the last request, planned for its values and run
(`EXPLAIN (ANALYZE, SUMMARY)`, the third of three runs): its planning and execution ms.
`--timed`: each statement's median ms from send to answer over the runs after the
tenth (prepared by then), as an execute wrapper sees it (the portal's own wrappers, such
as one plan's, run inside it).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile_pages  # noqa: E402
from bench.run import django_on_bench_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="scenarios whose label holds this")
    parser.add_argument("--ticket", help="the ticket page's number (profile_pages.py)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--explain", action="store_true", help="planning and execution ms")
    parser.add_argument("--timed", action="store_true", help="median ms of each statement")
    args = parser.parse_args()
    info = django_on_bench_database()

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from portal.accounts.models import User

    settings.ROOT_URLCONF = "bench.fixed_cost_urls"
    clients = {}
    for label, role, method, path, form in profile_pages.scenarios(info, args.ticket):
        if args.only not in label:
            continue
        if role not in clients:
            clients[role] = Client()
            clients[role].force_login(User.objects.get(pk=info["personas"][role]["id"]))
        client = clients[role]
        sent: list[tuple[str, object]] = []
        took: dict[str, list[float]] = {}

        def keep(execute, sql, params, many, context, sent=sent, took=took):
            sent.append((sql, params))
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                took.setdefault(sql, []).append(1000 * (time.perf_counter() - started))

        for i in range(args.runs):
            if i == 10:
                took.clear()
            target = path(i) if callable(path) else path
            sent.clear()
            with connection.execute_wrapper(keep):
                client.post(target, form(i)) if method == "POST" else client.get(target)
        if args.timed:
            print(f"-- {label}: median ms of each statement, send to answer (runs 11-)")
            for sql, times in took.items():
                print(f"  {statistics.median(times):6.3f}  {' '.join(sql.split())[:90]}")
        if args.explain:
            print(f"-- {label}: planning / execution ms of each SELECT of its last request")
            for sql, params in sent:
                if sql.lstrip().upper().startswith("SELECT"):
                    print(f"  {explained(connection, sql, params)}  {' '.join(sql.split())[:90]}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements"
            " ORDER BY custom_plans DESC, generic_plans DESC"
        )
        print("generic  custom  statement")
        for generic, custom, statement in cursor.fetchall():
            print(f"{generic:7d} {custom:7d}  {' '.join(statement.split())[:110]}")


def explained(connection, sql: str, params) -> str:
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql, params)
        times = [line for (line,) in cursor.fetchall() if line.endswith(" ms")]
    planning, execution = (float(line.split()[-2]) for line in times[-2:])
    return f"{planning:6.3f} / {execution:6.3f}"


if __name__ == "__main__":
    main()
