"""One table across data sizes, from the newest result of each size in bench/results/.

    .venv/bin/python bench/growth.py [--append]

For every page: query count, p95 latency and main-query time at each size, so a reader sees
which pages stay flat from 10k to 1M tickets and which grow. `--append` adds the table to
docs/benchmarks.md; otherwise it is printed.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def newest_per_size() -> dict[int, dict]:
    reports: dict[int, dict] = {}
    for path in sorted(common.RESULTS.glob("*.json")):
        report = json.loads(path.read_text())
        if report.get("partial") or "scenarios" not in report:
            continue
        size = report["data"]["tickets"]
        if size not in reports or report["started_at"] > reports[size]["started_at"]:
            reports[size] = report
    return dict(sorted(reports.items()))


def num(value) -> str:
    if value in (None, ""):
        return ""
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


def table(reports: dict[int, dict]) -> str:
    sizes = list(reports)
    rows: dict[tuple[str, str], dict[int, dict]] = {}
    for size, report in reports.items():
        for s in report["scenarios"]:
            rows.setdefault((s["page"], s["role"]), {})[size] = s["result"]
    head = ["page", "role"]
    head += [f"queries {label(n)}" for n in sizes]
    head += [f"p95 ms {label(n)}" for n in sizes]
    head += [f"main query ms {label(n)}" for n in sizes]
    lines = [
        "",
        "### Growth: " + " → ".join(label(n) for n in sizes) + " tickets",
        "",
        "Newest run of each size: "
        + "; ".join(
            f"{label(n)} at {r['started_at'][:16].replace('T', ' ')} UTC, commit {r['commit']}"
            for n, r in reports.items()
        )
        + ". p95 is over HTTP (median of the repeats); main query is EXPLAIN ANALYZE.",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---|" + "--:|" * (len(head) - 2),
    ]
    for (page, role), by_size in rows.items():
        cells = [page, role]
        cells += [str(by_size.get(n, {}).get("queries", "")) for n in sizes]
        cells += [num(by_size.get(n, {}).get("p95_ms")) for n in sizes]
        cells += [num(by_size.get(n, {}).get("explain_ms")) for n in sizes]
        lines.append("| " + " | ".join(cells) + " |")
    loads = [
        f"{label(n)}: {r['load']['throughput_rps']} req/s, {r['load']['errors']} errors"
        for n, r in reports.items()
        if r.get("load")
    ]
    if loads:
        lines += ["", "Load runs: " + "; ".join(loads) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    reports = newest_per_size()
    if not reports:
        raise SystemExit("No results yet: run bench/run.py first")
    text = table(reports)
    if args.append:
        path = common.OUTPUT_ROOT / "docs" / "benchmarks.md"
        with path.open("a") as handle:
            handle.write(text)
        print(f"appended to {path}")
    else:
        print(text)


if __name__ == "__main__":
    main()
