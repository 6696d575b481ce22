"""Client-side binding, server-side binding and prepared statements, side by side in one process.

    BENCH_TICKETS=100000 .venv/bin/python bench/binding_ab.py [--rounds 8] [--runs 15]

The scenarios of `bench/profile_pages.py` (Django's test Client, production settings, the
benchmark database). Each round runs every scenario under each way of talking to
PostgreSQL, in a rotating order, on a fresh connection: `client` (psycopg's ClientCursor,
Django's default), `server` (OPTIONS server_side_binding), `prepared` (server_side_binding
and prepare_threshold=N: a statement run N times on a connection is prepared, and
PostgreSQL keeps its parse and, after five runs, maybe a generic plan). A few warm-up
requests first, so the prepared case is measured once prepared. Alternating in one process
lets a shared, busy machine weigh on the three alike. Prints per scenario the median over
rounds of the per-round median wall and CPU ms per request, and the SQL share: the wall time
of the driver's execute calls (round trips, PostgreSQL's parse, plan and execution).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile_pages  # noqa: E402
from bench.run import django_on_bench_database  # noqa: E402

MODES = ("client", "server", "prepared")


def options(mode: str, threshold: int) -> dict:
    if mode == "client":
        return {}
    if mode == "server":
        return {"server_side_binding": True}
    return {"server_side_binding": True, "prepare_threshold": threshold}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per round")
    parser.add_argument("--warm", type=int, default=8, help="untimed requests per round")
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--only", help="run scenarios whose label contains this")
    args = parser.parse_args()
    info = django_on_bench_database()

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from portal.accounts.models import User

    settings.ROOT_URLCONF = "bench.fixed_cost_urls"
    plain = {
        key: value
        for key, value in connection.settings_dict["OPTIONS"].items()
        if key not in ("server_side_binding", "prepare_threshold")
    }
    clients = {}
    for role in ("admin", "requester", "agent"):
        client = Client()
        client.force_login(User.objects.get(pk=info["personas"][role]["id"]))
        clients[role] = client

    sql_ms: list[float] = []

    def timed_sql(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_ms[-1] += 1000 * (time.perf_counter() - start)

    results: dict = {}
    counter = 0
    for round_ in range(args.rounds):
        order = MODES[round_ % 3 :] + MODES[: round_ % 3]
        for label, role, method, path, form in profile_pages.scenarios(info):
            if args.only and args.only not in label:
                continue
            client = clients[role]
            for mode in order:
                connection.close()
                connection.settings_dict["OPTIONS"] = {**plain, **options(mode, args.threshold)}
                walls, cpus = [], []
                sql_ms.clear()
                for i in range(args.warm + args.runs):
                    counter += 1
                    target = path(counter) if callable(path) else path
                    sql_ms.append(0.0)
                    start, cpu = time.perf_counter(), time.process_time()
                    with connection.execute_wrapper(timed_sql):
                        if method == "POST":
                            response = client.post(target, form(counter))
                        else:
                            response = client.get(target)
                    if i >= args.warm:
                        walls.append(1000 * (time.perf_counter() - start))
                        cpus.append(1000 * (time.process_time() - cpu))
                    assert response.status_code in (200, 302), (label, mode, response.status_code)
                entry = results.setdefault(label, {}).setdefault(mode, ([], [], []))
                entry[0].append(statistics.median(walls))
                entry[1].append(statistics.median(cpus))
                entry[2].append(statistics.median(sql_ms[args.warm :]))
    connection.close()
    connection.settings_dict["OPTIONS"] = plain

    print("| scenario | " + " | ".join(f"{m} wall / CPU / SQL ms" for m in MODES) + " |")
    print("|---|" + "---|" * len(MODES))
    for label, modes in results.items():
        base = statistics.median(modes["client"][0])
        cells = []
        for mode in MODES:
            wall, cpu, sql = (statistics.median(values) for values in modes[mode])
            change = "" if mode == "client" else f" ({100 * (wall / base - 1):+.0f} %)"
            cells.append(f"{wall:.1f}{change} / {cpu:.1f} / {sql:.1f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"(rounds {args.rounds} × {args.runs} requests per mode; load average {load})")


if __name__ == "__main__":
    main()
