"""The statements alone: what prepared statements save, and whether generic plans hurt.

    BENCH_TICKETS=100000 .venv/bin/python bench/prepared_plans.py [--rounds 5]

Each page's statements as Django sends them (SQL and parameters, taken with
`connection.execute_wrapper` from a warm request of `bench/profile_pages.py`'s read
scenarios, as the admin) are replayed on four connections of this process: client-side
binding (Django's default), server-side binding, server-side binding with
prepare_threshold=5, and the same with plan_cache_mode=force_custom_plan (prepared, but
planned for its values each time). Rounds alternate them; the result is the median ms of
one page's statements. Then the worst case of a generic plan (PostgreSQL may switch a
prepared statement to one after five runs): each statement of pages with skewed values
(a big and a small team, common and rare statuses, a common and a rare search word),
timed with the plan made for its values and with the generic plan.
"""

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile_pages  # noqa: E402
from bench.run import django_on_bench_database  # noqa: E402

ALIASES = {
    "client": {},
    "server": {"server_side_binding": True},
    "prepared": {"server_side_binding": True, "prepare_threshold": 5},
    # Prepared, but planned for each statement's values every time.
    "custom": {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c plan_cache_mode=force_custom_plan",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20, help="replays per page and round")
    args = parser.parse_args()
    info = django_on_bench_database()

    from django.conf import settings
    from django.db import connection, connections
    from django.test import Client

    from portal.accounts.models import User

    settings.ROOT_URLCONF = "bench.fixed_cost_urls"
    base = copy.deepcopy(settings.DATABASES["default"])
    for key in ALIASES["custom"]:
        base["OPTIONS"].pop(key, None)
    for alias, options in ALIASES.items():
        connections.settings[alias] = {
            **copy.deepcopy(base),
            "OPTIONS": {**base["OPTIONS"], **options},
        }
    admin = Client()
    admin.force_login(User.objects.get(pk=info["personas"]["admin"]["id"]))

    def capture(path: str) -> list[tuple]:
        calls: list[tuple] = []

        def wrapper(execute, sql, params, many, context):
            calls.append((sql, params))
            return execute(sql, params, many, context)

        assert admin.get(path).status_code == 200, path
        with connection.execute_wrapper(wrapper):
            admin.get(path)
        return calls

    def replay(alias: str, calls: list[tuple], runs: int) -> float:
        times = []
        with connections[alias].cursor() as cursor:
            for _ in range(runs):
                start = time.perf_counter()
                for sql, params in calls:
                    cursor.execute(sql, params)
                    if cursor.description:
                        cursor.fetchall()
                times.append(1000 * (time.perf_counter() - start))
        return statistics.median(times)

    pages = {
        label: capture(path)
        for label, _role, method, path, _form in profile_pages.scenarios(info)
        if method == "GET"
    }
    for alias in ALIASES:  # warm: the prepared connection past its threshold
        for calls in pages.values():
            replay(alias, calls, 6)
    results: dict = {label: {alias: [] for alias in ALIASES} for label in pages}
    names = list(ALIASES)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for label, calls in pages.items():
            for alias in order:
                results[label][alias].append(replay(alias, calls, args.runs))
    print(
        "| page (statements) | client-side | server-side binding | prepared "
        "| prepared, custom plans |\n|---|--:|--:|--:|--:|"
    )
    for label, by_alias in results.items():
        ms = {alias: statistics.median(values) for alias, values in by_alias.items()}
        cells = [f"{ms['client']:.2f}"] + [
            f"{ms[a]:.2f} ({100 * (ms[a] / ms['client'] - 1):+.0f} %)"
            for a in ("server", "prepared", "custom")
        ]
        print(f"| {label} ({len(pages[label])}) | " + " | ".join(cells) + " |")

    # Worst case of a generic plan: each statement of pages with skewed values, planned for
    # its values (custom) and for any values (generic), on one prepared connection.
    listing = "/tickets?view=all&sort=-created"
    queue = "status=new&status=in_progress&status=on_hold"
    variants = {
        "team 1 queue (15,409 tickets)": f"{listing}&team=1&{queue}",
        "team 20 queue (559)": f"{listing}&team=20&{queue}",
        "closed (50,230)": "/tickets?view=all&status=closed",
        "on hold (2,902)": "/tickets?view=all&status=on_hold",
        "priority urgent (5,006)": "/tickets?view=all&priority=urgent",
        "team 1 closed, by update": "/tickets?view=all&team=1&status=closed&sort=-updated",
        "team 20 on hold, by update": "/tickets?view=all&team=20&status=on_hold&sort=-updated",
        'search "printer"': "/tickets?q=printer",
        "search, a rare code": f"/tickets?q={info['search']['rare']}",
    }
    print("\n| page: statement | custom plan ms | generic plan ms |\n|---|--:|--:|")
    raw = connections["prepared"]
    raw.ensure_connection()
    for label, path in variants.items():
        for sql, params in capture(path):
            times: dict[str, list[float]] = {"custom": [], "generic": []}
            for _ in range(5):
                for mode in times:
                    with raw.connection.cursor() as cursor:
                        cursor.execute(f"SET plan_cache_mode = force_{mode}_plan")
                        # PostgreSQL reads plan_cache_mode at each execution of a prepared
                        # statement: a generic plan is made once and kept, a custom one each time.
                        cursor.execute(sql, params, prepare=True)
                        start = time.perf_counter()
                        for _ in range(3):
                            cursor.execute(sql, params, prepare=True)
                            if cursor.description:
                                cursor.fetchall()
                        times[mode].append(1000 * (time.perf_counter() - start) / 3)
            custom, generic = (statistics.median(times[mode]) for mode in times)
            if max(custom, generic) >= 0.5:  # the session's and user's lookups are below
                print(f"| {label}: {sql[:40]}… | {custom:.2f} | {generic:.2f} |")
    with raw.connection.cursor() as cursor:
        cursor.execute("RESET plan_cache_mode")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"(load average {load}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")


if __name__ == "__main__":
    main()
