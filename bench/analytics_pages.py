"""Time /analytics and /dashboard on a database made by bench/generate.py (issue 7's targets).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy of portal_bench_1000000> \\
        .venv/bin/python bench/analytics_pages.py [--runs 30]

Signs in as generate.py's personas (admin, the busiest group's SPOC, the busiest team's
lead and agent, a requester; `bench_info`), requests each page `--runs` times after one
warm-up through Django's test client with production settings (DEBUG off), and prints
the median and p95 in ms. The database is only read (plus the page-view counter).

/analytics keeps what it computed for ANALYTICS_CACHE_SECONDS (portal/analytics/kept.py),
so after the warm-up each page is read from the cache; `ANALYTICS_CACHE_SECONDS=0` times
the computation on every request.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

PAGES = [
    ("admin", "/analytics?period=90", 300),
    ("admin", "/analytics?period=30", 300),
    ("admin", "/analytics?period=90&priority=high", 300),
    ("spoc", "/analytics?period=90", 300),
    # The default period, as the mixed load of bench/run.py asks for it.
    ("spoc", "/analytics", 300),
    ("lead", "/analytics", 300),
    ("agent", "/analytics", 300),
    ("lead", "/analytics?period=90", 300),
    ("agent", "/analytics?period=90", 300),
    ("admin", "/dashboard", 100),
    ("spoc", "/dashboard", 100),
    ("lead", "/dashboard", 100),
    ("agent", "/dashboard", 100),
    ("requester", "/dashboard", 100),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    common.setup_django(os.environ["DATABASE_URL"])  # production settings, DEBUG off
    from django.db import connection
    from django.test import Client

    from portal.accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM bench_info WHERE key = 'personas'")
        personas = json.loads(cursor.fetchone()[0]) if connection.vendor == "postgresql" else {}
    print(f"{'persona':<10} {'page':<38} {'median ms':>10} {'p95 ms':>8} {'target':>7}")
    for persona, url, target in PAGES:
        client = Client()
        client.force_login(User.objects.get(pk=personas[persona]["id"]))
        median, p95 = common.timed_get(client, url, args.runs)
        flag = "ok" if p95 <= target else "SLOW"
        print(f"{persona:<10} {url:<38} {median:>10.1f} {p95:>8.1f} {target:>6} {flag}")


if __name__ == "__main__":
    main()
