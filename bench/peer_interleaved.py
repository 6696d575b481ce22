"""The side-by-side comparison with django-helpdesk, the two systems taking turns.

`../shared/peer/portalhost/side_by_side.sh` measures the peer for a few minutes, then the
portal: each system's p50 comes from its own stretch of time. On a shared virtual machine
whose speed swings by up to 2x within seconds (docs/benchmarks.md, "A machine whose speed
swings"), the portal's 30 actions of a scenario take a fraction of a second and land in
one phase, while the peer's take several seconds and average over many: a ratio of the
two then says as much about the moment as about the systems.

Here both systems run the harness's own scenarios (its profiles, sessions and timers,
against the servers its serve scripts start) in turns of `--block-seconds` each,
alternating (peer, portal, portal, peer, ...) for `--blocks` turns, so both sample the
same stretch of time. Turns rather than single actions: right after one of the peer's
long requests the portal's next one runs on a CPU whose caches the peer filled (measured:
the ticket page's p50 went from 4.5-5.5 ms alone to 9.4 ms alternating action by action),
which no deployment of either sees; in a turn only the first action pays that.

Reported per scenario: each system's p50 over all its actions, the ratio of the two, and
turn by turn (each peer turn's p50 against the portal turn beside it in time) the median
and lowest ratio and the share of turns at the issue's target. Before each scenario it
waits (up to two minutes) for other processes to use less than `--quiet-threshold` % of
the machine, and reports how much they used while it ran, with the harness's accounting.

Run it with the harness's Python, after `setup.sh N` and with both servers up
(`./serve.sh start; portalhost/serve.sh start` in the harness):

    <harness venv>/bin/python bench/peer_interleaved.py --harness ../shared/peer \
        --out bench/results/peer-turns-<date>.json

Writes a JSON file and prints a markdown table.
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

TARGETS = {"a": 20.0, "b": 20.0, "c": 20.0, "d": 20.0, "g": 20.0, "e": 4.0, "f": 4.0}


def load(harness: Path) -> tuple[ModuleType, ModuleType, ModuleType]:
    sys.path.insert(0, str(harness))
    benchlib = importlib.import_module("benchlib")
    peer = importlib.import_module("profiles.helpdesk")
    portal = importlib.import_module("profiles.portal")
    return benchlib, peer, portal


class Side:
    """One system: its profile, context and signed-in session."""

    def __init__(self, benchlib: ModuleType, profile: ModuleType):
        self.profile = profile
        self.ctx = profile.load_context()
        self.session = benchlib.Session(profile.BASE_URL)
        profile.login(self.session, self.ctx)
        self.scenarios = {s.key: s for s in profile.SCENARIOS}
        self.errors: list[str] = []
        self.actions = 0  # every action's index is new: a fresh key, the next sample ticket

    def prepare(self, key: str) -> Any:
        scenario = self.scenarios[key]
        return scenario.prepare(self.session, self.ctx, 0, 1) if scenario.prepare else None

    def act(self, key: str, state: Any) -> float | None:
        """One action's milliseconds (its requests' sum, as the harness counts it); None
        for an action that failed (counted in `errors`, as the harness counts them)."""
        self.session.records.clear()
        self.session.info.clear()
        self.actions += 1
        try:
            self.scenarios[key].action(self.session, self.ctx, state, self.actions)
        except Exception as error:  # noqa: BLE001 - counted and reported, as bench.py does
            self.errors.append(f"{key}: {type(error).__name__}: {error}")
            return None
        return sum(record.ms for record in self.session.records)


def block(side: Side, key: str, state: Any, seconds: float) -> list[float]:
    """Actions one after the other for `seconds` (at least one)."""
    times: list[float] = []
    started, tried = time.monotonic(), 0
    while not tried or time.monotonic() - started < seconds:
        ms = side.act(key, state)
        tried += 1
        if ms is not None:
            times.append(ms)
    return times


def interleave(peer: Side, portal: Side, key: str, blocks: int, seconds: float, warmup: int):
    """`blocks` turns of `seconds` for each system, alternating (who starts alternates
    too); the block times of each, in order."""
    states = {id(peer): peer.prepare(key), id(portal): portal.prepare(key)}
    for side in (peer, portal):
        for _ in range(warmup):
            side.act(key, states[id(side)])
    runs: dict[int, list[list[float]]] = {id(peer): [], id(portal): []}
    for n in range(blocks):
        for side in (peer, portal) if n % 2 == 0 else (portal, peer):
            runs[id(side)].append(block(side, key, states[id(side)], seconds))
    return runs[id(peer)], runs[id(portal)]


def summary(key: str, title: str, peer: list[list[float]], portal: list[list[float]]) -> dict:
    peer_ms = [ms for times in peer for ms in times]
    portal_ms = [ms for times in portal for ms in times]
    # Each turn of the peer against the portal's turn beside it in time.
    by_block = [
        statistics.median(p) / statistics.median(q)
        for p, q in zip(peer, portal, strict=True)
        if p and q
    ]
    peer_p50, portal_p50 = statistics.median(peer_ms), statistics.median(portal_ms)
    target = TARGETS.get(key)
    return {
        "scenario": key,
        "title": title,
        "blocks": len(by_block),
        "peer_actions": len(peer_ms),
        "portal_actions": len(portal_ms),
        "peer_p50_ms": round(peer_p50, 2),
        "portal_p50_ms": round(portal_p50, 2),
        "ratio_of_p50": round(peer_p50 / portal_p50, 2),
        "block_ratio_p50": round(statistics.median(by_block), 2),
        "block_ratio_min": round(min(by_block), 2),
        "target": target,
        "blocks_at_target": (
            round(sum(r >= target for r in by_block) / len(by_block), 2) if target else None
        ),
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| # | scenario | actions (helpdesk / portal) | helpdesk p50 ms | portal p50 ms "
        "| ratio of p50s | turn by turn: median (lowest) | turns at target | foreign CPU % |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        at_target = (
            f"{r['blocks_at_target']:.0%} of {r['target']:g}x" if r["target"] is not None else "–"
        )
        lines.append(
            f"| {r['scenario']} | {r['title']} | {r['peer_actions']} / {r['portal_actions']} "
            f"| {r['peer_p50_ms']} | {r['portal_p50_ms']} | {r['ratio_of_p50']}x "
            f"| {r['block_ratio_p50']}x ({r['block_ratio_min']}x) "
            f"| {at_target} | {'–' if r.get('foreign_cpu_pct') is None else r['foreign_cpu_pct']} |"
        )
    return "\n".join(lines)


def served_commit() -> str | None:
    """The commit of the checkout the harness serves (its PORTAL_ROOT), when it says."""
    root = os.environ.get("PORTAL_ROOT")
    if not root:
        return None
    found = subprocess.run(  # noqa: S603 - git with a folder the caller set
        ["git", "-C", root, "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, required=True, help="the peer harness folder")
    parser.add_argument("--scenarios", default="a,b,c,d,g,e,f")
    parser.add_argument("--blocks", type=int, default=15, help="turns of each system")
    parser.add_argument("--block-seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=10.0,
        help="foreign CPU %% (other processes than both servers, PostgreSQL and this one; "
        "the portal's task worker too, as in the harness) to wait below before each "
        "scenario, as the harness does; reported per scenario",
    )
    args = parser.parse_args()

    started = datetime.now(UTC)
    benchlib, peer_profile, portal_profile = load(args.harness.resolve())
    peer, portal = Side(benchlib, peer_profile), Side(benchlib, portal_profile)
    # Both systems are "own" here: each runs while the other one idles.
    cpu = benchlib.CpuMonitor(
        [*peer_profile.OWN_PROCESS_PATTERNS, *portal_profile.OWN_PROCESS_PATTERNS]
    )
    rows = []
    for key in args.scenarios.split(","):
        title = portal.scenarios[key].title
        waited = cpu.wait_quiet(args.quiet_threshold, max_wait_s=120)
        print(f"[{datetime.now(UTC):%H:%M:%S}] {key} {title}", file=sys.stderr, flush=True)
        before = cpu.snapshot()
        peer_runs, portal_runs = interleave(
            peer, portal, key, args.blocks, args.block_seconds, args.warmup
        )
        row = summary(key, title, peer_runs, portal_runs)
        row["foreign_cpu_pct"] = cpu.delta(before, cpu.snapshot()).get("foreign_pct")
        row["waited_for_quiet_s"] = waited
        if (row["foreign_cpu_pct"] or 0) > args.quiet_threshold:
            print(f"    foreign CPU {row['foreign_cpu_pct']}% during {key}", file=sys.stderr)
        rows.append(row)
    table = markdown(rows)
    print(table)
    for side in (peer, portal):
        if side.errors:
            failed = len(side.errors)
            print(f"{side.profile.NAME}: {failed} failed actions, first: {side.errors[0]}")
    if args.out:
        report = {
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            "portal_commit": served_commit(),
            "tickets": {"helpdesk": peer.ctx["n_tickets"], "portal": portal.ctx["n_tickets"]},
            "blocks": args.blocks,
            "block_seconds": args.block_seconds,
            "warmup": args.warmup,
            "errors": {"helpdesk": peer.errors, "portal": portal.errors},
            "rows": rows,
        }
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
