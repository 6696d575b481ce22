"""One write of the side-by-side harness, over and over: does it cost the same at the
thousandth as at the first?

The harness's create and comment post a form and do not follow the redirect, as a script
would. This runs one of them (`e` create, `f` comment) against the portal the harness
serves for `--seconds`, and prints the p50 of each `--window` seconds with the SQL time
the server reported (its X-Bench-DB-Ms header). A cost that grows with the number of
posts shows here and not in the side-by-side's thirty (docs/benchmarks.md, "Writes that
got slower the longer a client posted").

    <harness venv>/bin/python bench/peer_burst.py --harness ../shared/peer e --seconds 30
"""

import argparse
import statistics
import time
from pathlib import Path

from peer_interleaved import Side, load  # the same harness loading and action timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, required=True, help="the peer harness folder")
    parser.add_argument("scenario", choices=["e", "f"])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--window", type=float, default=5)
    args = parser.parse_args()
    benchlib, _peer, portal_profile = load(args.harness.resolve())
    portal = Side(benchlib, portal_profile)
    state = portal.prepare(args.scenario)
    for _ in range(5):  # warm-up, as the harness does
        portal.act(args.scenario, state)
    started = window_start = time.monotonic()
    posts, times, sql = 0, [], []

    def report() -> None:
        # The server's SQL time when it reports one (the harness's query counter).
        timed = [ms for ms in sql if ms is not None]
        spent = f"{statistics.median(timed):5.2f} ms" if timed else "–"
        print(
            f"{time.monotonic() - started:5.0f} s  {posts:5d} posts  "
            f"p50 {statistics.median(times):6.2f} ms  SQL {spent}",
            flush=True,
        )

    while time.monotonic() - started < args.seconds:
        ms = portal.act(args.scenario, state)
        posts += 1
        if ms is not None:
            times.append(ms)
            reported = [r.db_ms for r in portal.session.records if r.db_ms is not None]
            sql.append(sum(reported) if reported else None)
        if times and time.monotonic() - window_start >= args.window:
            report()
            times, sql, window_start = [], [], time.monotonic()
    if times:
        report()  # the last, shorter window
    if portal.errors:
        print(f"{len(portal.errors)} failed posts, first: {portal.errors[0]}")


if __name__ == "__main__":
    main()
