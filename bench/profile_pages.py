"""Where a page's time goes: cProfile of the side-by-side scenarios, in process.

    BENCH_TICKETS=100000 .venv/bin/python bench/profile_pages.py [--runs 30] [--top 25]

On the database of `bench/generate.py` (production settings, Django's test Client signed
in as the admin persona, like the peer comparison's staff user; create as the requester,
comment as the agent). Per scenario: SQL statements, the share of the time spent in SQL
(the driver's execute calls), in template rendering (with the SQL of querysets a template
evaluates) and in form widgets, and the functions with the most time of their own.
Proportions, not absolute times: they hold on a busy machine where latencies do not.
Each run is a fresh request; the first is a warm-up and is not profiled. With --cpu, no
profiler: the median CPU time of the process per request (Python side, the database's own
time not included), which a busy machine hardly changes, and the median wall time (with
the database's answers and round trips, which a busy machine does change).
"""

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import generate_forms  # noqa: E402
from bench.run import django_on_bench_database  # noqa: E402

# (label, persona, method, path or callable(i), form or None)
AREAS = {
    "sql": ("django/db/backends/utils.py", "_execute"),
    # Rendering includes the SQL of querysets evaluated lazily inside templates.
    "templates": ("django/template/backends/django.py", "render"),
    "widgets": ("django/forms/widgets.py", "render"),
}


def scenarios(info: dict, ticket: str | None = None) -> list[tuple]:
    from portal.catalog.models import Team
    from portal.tickets.models import format_number

    team = Team.objects.order_by("name").first()
    number = ticket or format_number(info["showcase"][0])
    targets = [format_number(pk) for pk in info["showcase"][1:4]]
    group, category = info["top_group"], info["top_category"]
    two_words = info["search"]["medium"]

    answers = generate_forms.page_inputs(category)  # the category's request form

    def create_form(i: int) -> dict:
        return {
            **answers,
            "title": f"Laptop docking station flickers {i}",
            "description": "Since this morning my docking station keeps disconnecting.",
            "group": group,
            "category": category,
            "subcategory": "",
            "priority": "",
            "idempotency_key": str(uuid.uuid4()),
        }

    def compared_create(i: int) -> dict:
        # What the side-by-side harness posts (../peer/profiles/portal.py, e_create): the
        # new-ticket page as it opens (no request form's inputs), priority chosen.
        return {
            "title": f"Projector in room 4.12 shows no signal (bench {i})",
            "description": "Hi team, the projector in room 4.12 shows 'no signal' with every "
            "laptop. I already tried another HDMI cable. Thanks",
            "group": group,
            "category": category,
            "subcategory": "",
            "priority": "medium",
            "idempotency_key": str(uuid.uuid4()),
        }

    def compared_comment(i: int) -> dict:
        # f_comment of the harness: a public comment with the page's fresh idempotency key.
        return {
            "body": f"Checked the logs, the VPN gateway restarted at 09:{i % 60:02d}. "
            "Please try again and confirm.",
            "idempotency_key": str(uuid.uuid4()),
        }

    return [
        # A signed-in page with no work of its own: the fixed cost (bench/fixed_cost_urls.py).
        ("0 fixed cost", "admin", "GET", "/_bench/empty", None),
        ("a list", "admin", "GET", "/tickets", None),
        (
            "b team queue",
            "admin",
            "GET",
            f"/tickets?view=all&status=new&status=in_progress&status=on_hold"
            f"&team={team.pk}&sort=-created",
            None,
        ),
        ("c search printer", "admin", "GET", "/tickets?q=printer", None),
        ("c search rare", "admin", "GET", f"/tickets?q={info['search']['rare']}", None),
        # The mixed load's two-word search (an agent's; bench/run.py "search: two words").
        ("c search two words", "agent", "GET", "/tickets?" + urlencode({"q": two_words}), None),
        ("d ticket page", "admin", "GET", f"/tickets/{number}", None),
        ("g dashboard", "admin", "GET", "/dashboard", None),
        ("g dashboard of an agent", "agent", "GET", "/dashboard", None),
        ("g dashboard of a lead", "lead", "GET", "/dashboard", None),
        ("g dashboard of a SPOC", "spoc", "GET", "/dashboard", None),
        # The notification list (30 rows a page) of the personas with the most of them.
        ("j notifications of an admin", "admin", "GET", "/notifications", None),
        ("j notifications of a SPOC", "spoc", "GET", "/notifications", None),
        # The analytics page of every persona that works tickets (the mixed load's rotation).
        ("h analytics of an agent", "agent", "GET", "/analytics", None),
        ("h analytics of a lead", "lead", "GET", "/analytics", None),
        ("h analytics of a SPOC", "spoc", "GET", "/analytics", None),
        ("h analytics of an admin", "admin", "GET", "/analytics", None),
        ("h analytics of an admin, 90 days", "admin", "GET", "/analytics?period=90", None),
        # The API's ticket list (session auth, as the mixed load's API scenario reads it).
        ("i API list", "admin", "GET", "/api/v1/tickets", None),
        ("i API list of an agent", "agent", "GET", "/api/v1/tickets", None),
        ("e create", "requester", "POST", "/tickets/new", create_form),
        (
            "f comment",
            "agent",
            "POST",
            lambda i: f"/tickets/{targets[i % len(targets)]}/comments",
            lambda i: {"body": f"Checked the docking station firmware, attempt {i}."},
        ),
        # e and f as the side-by-side comparison sends them: by an admin, no request
        # form's answers, fresh idempotency keys.
        ("e create as compared", "admin", "POST", "/tickets/new", compared_create),
        (
            "f comment as compared",
            "admin",
            "POST",
            lambda i: f"/tickets/{targets[i % len(targets)]}/comments",
            compared_comment,
        ),
    ]


def share(stats: pstats.Stats, area: tuple[str, str]) -> float:
    """Cumulative seconds of the outermost calls of `area`'s function."""
    suffix, name = area
    total = 0.0
    for (filename, _line, function), (_cc, _nc, _tt, _ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if function != name or not filename.endswith(suffix):
            continue
        # Only calls not made from another call of the same function (nested renders).
        for caller, (_c, _n, _t, caller_ct) in callers.items():
            if not (caller[2] == name and caller[0].endswith(suffix)):
                total += caller_ct
    return total


def timed_statements(connection, run) -> list[tuple[float, str]]:
    """Each statement `run` sends and the milliseconds until its answer (an execute
    wrapper: finer than the 1 ms the debug cursor records)."""
    timed = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append((1000 * (time.perf_counter() - start), sql))

    with connection.execute_wrapper(wrapper):
        run()
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--only", help="run scenarios whose label contains this")
    parser.add_argument(
        "--ticket",
        help="the ticket page's number (default: the showcase ticket, 20 comments); the "
        "side-by-side run's are open tickets with 3 comments, such as TKT-002176 at 100k",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="no profiler: the median CPU ms of this process per request (app side only)",
    )
    parser.add_argument(
        "--sql",
        action="store_true",
        help="also print the warm requests' statements, each with its median time",
    )
    parser.add_argument(
        "--dump", help="write the (last) scenario's profile to this file, for pstats callers"
    )
    args = parser.parse_args()
    info = django_on_bench_database()

    from django.conf import settings

    settings.ROOT_URLCONF = "bench.fixed_cost_urls"  # the portal's URLs and "0 fixed cost"

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.accounts.models import User

    clients = {}
    for role in ("admin", "requester", "agent", "lead", "spoc"):
        client = Client()
        client.force_login(User.objects.get(pk=info["personas"][role]["id"]))
        client.get("/dashboard")
        clients[role] = client

    for label, role, method, path, form in scenarios(info, args.ticket):
        if args.only and args.only not in label:
            continue
        client = clients[role]

        def request(i: int, client=client, method=method, path=path, form=form):
            target = path(i) if callable(path) else path
            if method == "POST":
                # URL-encoded, as a browser sends a form without files and as the
                # side-by-side harness (httpx `data=`) sends every form; the test client's
                # default, multipart, parses slower than either.
                return client.post(
                    target,
                    urlencode(form(i), doseq=True),
                    content_type="application/x-www-form-urlencoded",
                )
            return client.get(target)

        with CaptureQueriesContext(connection) as queries:
            response = request(0)
        assert response.status_code in (200, 302), (label, response.status_code)
        statements = str(len(queries.captured_queries))
        # Pages that keep what they computed (analytics) cost less the second time, and a
        # write's first request fills the caches it reads (the side-by-side counts a warm one).
        with CaptureQueriesContext(connection) as queries:
            request(0)
        if len(queries.captured_queries) != int(statements):
            statements += f" (then {len(queries.captured_queries)})"
        if args.sql:
            # The median over --runs requests of each statement in order: one request's
            # times swing with the machine more than the differences worth finding.
            runs = [timed_statements(connection, lambda i=i: request(i)) for i in range(args.runs)]
            usual, _count = Counter(tuple(sql for _, sql in run) for run in runs).most_common(1)[0]
            same = [run for run in runs if tuple(sql for _, sql in run) == usual]
            print(
                f"-- {label}, the statements of {len(same)} of {len(runs)} requests that sent "
                "the most usual ones (median ms from send to answer):"
            )
            for position, sql in enumerate(usual):
                took = statistics.median(run[position][0] for run in same)
                print(f"  [{took:.3f}] {sql[:200]}")
        if args.cpu:
            times, walls = [], []
            for i in range(1, args.runs + 1):
                start, wall = time.process_time(), time.perf_counter()
                request(i)
                times.append(1000 * (time.process_time() - start))
                walls.append(1000 * (time.perf_counter() - wall))
            print(
                f"{label}: {statements} statements; CPU ms per request median "
                f"{statistics.median(times):.1f} (min {min(times):.1f}); wall ms median "
                f"{statistics.median(walls):.1f} (min {min(walls):.1f})"
            )
            continue
        profile = cProfile.Profile()
        for i in range(1, args.runs + 1):
            profile.enable()
            request(i)
            profile.disable()
        stats = pstats.Stats(profile)
        if args.dump:
            stats.dump_stats(args.dump)
        total = stats.total_tt  # type: ignore[attr-defined]
        sql, templates, widgets = (share(stats, AREAS[key]) for key in AREAS)
        print(
            f"\n== {label}: {statements} statements; per request {1000 * total / args.runs:.1f} ms "
            f"under the profiler; SQL {100 * sql / total:.0f} %, rendering "
            f"{100 * templates / total:.0f} % (form widgets {100 * widgets / total:.0f} %)"
        )
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start : start + args.top + 1]))
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(
            r"portal/|templatetags|render|middleware"
        )
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("-- cumulative (portal code, rendering, middleware):")
        print("\n".join(lines[start : start + args.top + 1]))


if __name__ == "__main__":
    main()
