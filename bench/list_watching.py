"""Benchmark: what watchers seeing their watched tickets costs the ticket list.

    .venv/bin/python bench/list_watching.py [--tickets 100000] [--database portal_bench_…]

On the ticket benchmark's database (`bench/generate.py`), first makes sure there are
watchers: 5,000 watch rows of random requesters on random tickets, and three tickets of
other people the requester persona watches (a ticket of theirs merged into each), then
ANALYZE. Then, for each persona and the saved views "all", "mine" and "watching", builds
the list's page as the list view does (`filters.TicketFilter(...).page()`), counts its
statements, and prints the best of five `EXPLAIN ANALYZE` execution times of the page
query, with the access condition written as it is now and as it was before watchers saw
their tickets (`--without`: `Reach.watching_q` matching nothing).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

VIEWS = ("all", "mine", "watching")
PERSONAS = ("requester", "agent", "lead", "spoc", "admin")


def _watchers(cursor, requester_id: int) -> None:
    cursor.execute("SELECT count(*) FROM tickets_ticket_watchers")
    if cursor.fetchone()[0] < 5000:
        cursor.execute(
            "INSERT INTO tickets_ticket_watchers (ticket_id, user_id) "
            "SELECT t.id, u.id FROM (SELECT id FROM tickets_ticket ORDER BY random() LIMIT 5000) t "
            "JOIN LATERAL (SELECT id FROM accounts_user WHERE is_staff = false "
            "  AND id <> t.id ORDER BY random() LIMIT 1) u ON true "
            "ON CONFLICT DO NOTHING"
        )
    cursor.execute(
        "INSERT INTO tickets_ticket_watchers (ticket_id, user_id) "
        "SELECT id, %s FROM tickets_ticket WHERE requester_id <> %s ORDER BY id LIMIT 3 "
        "ON CONFLICT DO NOTHING",
        [requester_id, requester_id],
    )
    cursor.execute("ANALYZE tickets_ticket_watchers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database", help="default: portal_bench_<tickets>")
    parser.add_argument("--without", action="store_true", help="the condition before watchers")
    args = parser.parse_args()
    common.setup_django(common.database_url(common.database_name(args.tickets, args.database)))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.accounts.models import User
    from portal.tickets import access
    from portal.tickets.filters import TicketFilter

    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM bench_info WHERE key = 'personas'")
        personas = cursor.fetchone()[0]
        personas = personas if isinstance(personas, dict) else json.loads(personas)
        _watchers(cursor, personas["requester"]["id"])
    if args.without:
        access.Reach.watching_q = lambda self, prefix="": access.NOTHING  # type: ignore[method-assign]
    label = "before" if args.without else "now"
    for name in PERSONAS:
        user = User.objects.get(pk=personas[name]["id"])
        for view in VIEWS[:2] if args.without else VIEWS:
            ticket_filter = TicketFilter({"view": view}, user)
            assert ticket_filter.is_valid(), ticket_filter.form.errors
            with CaptureQueriesContext(connection) as queries:
                rows, _cursor = ticket_filter.page()
                shown = len(list(rows))
            page_sql = next(
                q["sql"] for q in queries.captured_queries
                if 'FROM "tickets_ticket"' in q["sql"] and "LIMIT" in q["sql"]
            )  # fmt: skip
            best = None
            with connection.cursor() as cursor:
                for _run in range(5):
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + page_sql)
                    plan = cursor.fetchone()[0]
                    plan = plan if isinstance(plan, list) else json.loads(plan)
                    took = plan[0]["Execution Time"]
                    best = took if best is None else min(best, took)
                cursor.execute("EXPLAIN " + page_sql)
                scan = next(
                    line.strip() for (line,) in cursor.fetchall()
                    if "Scan" in line and "tickets_ticket " in line + " "
                    and "watchers" not in line
                )  # fmt: skip
            print(
                f"{label:6} {name:9} {view:8} rows={shown:2} statements={len(queries)} "
                f"page query {best:7.2f} ms  {scan.split('  (')[0].lstrip('-> ')}"
            )


if __name__ == "__main__":
    main()
