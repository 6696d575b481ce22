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
import importlib
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, required=True, help="the peer harness folder")
    parser.add_argument("scenario", choices=["e", "f"])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--window", type=float, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(args.harness.resolve()))
    benchlib = importlib.import_module("benchlib")
    portal = importlib.import_module("profiles.portal")

    ctx = portal.load_context()
    session = benchlib.Session(portal.BASE_URL)
    portal.login(session, ctx)
    scenario = {s.key: s for s in portal.SCENARIOS}[args.scenario]
    state = scenario.prepare(session, ctx, 0, 1)
    for i in range(5):  # warm-up, as the harness does
        scenario.action(session, ctx, state, i)
    started = window_start = time.monotonic()
    done, times, sql = 5, [], []

    def report() -> None:
        # The server's SQL time when it reports one (the harness's query counter).
        timed = [ms for ms in sql if ms is not None]
        spent = f"{statistics.median(timed):5.2f} ms" if timed else "–"
        print(
            f"{time.monotonic() - started:5.0f} s  {done - 5:5d} posts  "
            f"p50 {statistics.median(times):6.2f} ms  SQL {spent}",
            flush=True,
        )

    while time.monotonic() - started < args.seconds:
        session.records.clear()
        scenario.action(session, ctx, state, done)
        done += 1
        times.append(sum(record.ms for record in session.records))
        reported = [record.db_ms for record in session.records if record.db_ms is not None]
        sql.append(sum(reported) if reported else None)
        if time.monotonic() - window_start >= args.window:
            report()
            times, sql, window_start = [], [], time.monotonic()
    if times:
        report()  # the last, shorter window


if __name__ == "__main__":
    main()
