"""CI-sized benchmark check: fails on errors or on query-count growth, never on timings.

    .venv/bin/python bench/ci_check.py [--small 5000] [--large 20000] [--keep]

Generates two benchmark databases (`portal_bench_ci_5000`, `portal_bench_ci_20000`, fresh
each time so they always have the current migrations), then asks every page and action of
`bench/run.py` in process, signed in as each persona, at both sizes. It fails when a page
answers with an unexpected status, or when a page runs a different number of SQL queries at
the larger size (a query per row somewhere: N+1). The databases are dropped afterwards unless
`--keep`. Needs PostgreSQL (DATABASE_URL's server, or postgres@127.0.0.1).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

PYTHON = sys.executable


def run(*args: str) -> None:
    subprocess.run([PYTHON, *args], cwd=common.ROOT, check=True)  # noqa: S603


def generate(tickets: int, database: str) -> None:
    run("bench/generate.py", "--tickets", str(tickets), "--database", database)


def counts(tickets: int, database: str, out: Path) -> dict:
    run(
        "bench/run.py", "--tickets", str(tickets), "--database", database, "--counts-only",
        "--json", str(out),
    )  # fmt: skip
    return json.loads(out.read_text())


def drop(database: str) -> None:
    import psycopg
    from psycopg import sql

    shutil.rmtree(common.var_dir(common.database_url(database)), ignore_errors=True)

    with psycopg.connect(common.conninfo(common.database_url("postgres")), autocommit=True) as c:
        c.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 5,000 rather than fewer: below that some personas' pages are empty, and an empty page
    # rightly skips the queries that load its rows' details, which reads as "growth".
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    args = parser.parse_args()
    started = time.monotonic()
    names = {size: f"{common.PREFIX}ci_{size}" for size in (args.small, args.large)}
    reports = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for size, name in names.items():
                generate(size, name)
            # Both counts back to back (the loads take most of the time).
            for size, name in names.items():
                reports[size] = counts(size, name, Path(tmp) / f"{size}.json")
    finally:
        if not args.keep:
            for name in names.values():
                drop(name)
    small, large = (
        {(s["page"], s["role"]): s["result"] for s in reports[size]["scenarios"]}
        for size in (args.small, args.large)
    )
    problems = []
    print(f"\n{'page':45} {'role':10} {args.small:>7} {args.large:>7}  statuses")
    for key in sorted(set(small) | set(large)):
        a, b = small.get(key, {}), large.get(key, {})
        line = (
            f"{key[0]:45} {key[1]:10} {a.get('queries', '-'):>7} {b.get('queries', '-'):>7}  "
            f"{sorted(set(a.get('statuses', []) + b.get('statuses', [])))}"
        )
        if not a or not b:
            problems.append(f"{key}: measured at one size only")
        elif a["queries"] != b["queries"]:
            problems.append(
                f"{key}: {a['queries']} queries at {args.small:,} tickets but {b['queries']} at "
                f"{args.large:,}: something runs a query per row"
            )
        for size, result in ((args.small, a), (args.large, b)):
            if result and not result.get("ok"):
                problems.append(f"{key}: unexpected status {result['statuses']} at {size:,}")
        print(line + ("  <--" if problems and str(key) in problems[-1] else ""))
    seconds = time.monotonic() - started
    if problems:
        print(f"\nbench check FAILED ({seconds:.0f}s):\n  " + "\n  ".join(problems))
        raise SystemExit(1)
    print(f"\nbench check passed in {seconds:.0f}s: no errors, query counts equal at both sizes")


if __name__ == "__main__":
    main()
