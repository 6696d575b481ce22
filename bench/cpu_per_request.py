"""CPU milliseconds per request, split between the app server and PostgreSQL (issue 26).

The capacity model of docs/scaling.md divides cores by these. gunicorn runs with ONE sync
worker against a generated benchmark database (`bench/generate.py`); its database backend
is found by application_name. Each page is requested N times by one signed-in persona, and
the CPU time that the worker process and its backend used meanwhile (the scheduler's, from
/proc/<pid>/task/*/schedstat) is divided by N. CPU time, unlike latency, hardly depends on
what else runs on the machine, so this can be measured on a busy box. Reads only (plus the
page-view counter and the session the requests themselves write).

    BENCH_TICKETS=100000 .venv/bin/python bench/cpu_per_request.py --requests 60 [--mix]

With --mix, every page of `bench/run.py`'s mixed load instead (its personas, its paths), and
each kind of page's share of the load's CPU. In the load each persona has a connection that
turns through the persona's own pages, and the five make about as many requests each, so a
page is weighted by one over its persona's page count.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.run import PAGE_ONE, PAGE_TWO, Session, gunicorn, page_two  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PROBE = "cpu_probe"
PERSONAS = {"admin": "admin1@bench.example.com", "agent": "agent001@bench.example.com"}


def cpu_ms(pid: int) -> float:
    """CPU time of the process so far: the scheduler's nanoseconds on a CPU, summed over its
    threads (/proc/<pid>/task/*/schedstat); where the kernel has no schedstat, user + system
    time in clock ticks (10 ms: ±0.25 ms a request over 40 requests)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e6
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / TICK  # utime + stime


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def backend_pids(url: str) -> list[int]:
    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [PROBE]
        ).fetchall()
    return [pid for (pid,) in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", help="default: portal_bench_<BENCH_TICKETS>")
    parser.add_argument("--mix", action="store_true", help="the mixed load's pages instead")
    args = parser.parse_args()
    tickets = common.tickets_from_env(100_000)
    name = common.database_name(tickets, args.database)
    url = common.database_url(name)
    with psycopg.connect(common.conninfo(url)) as conn:
        (first,) = conn.execute("SELECT min(id) FROM tickets_ticket").fetchone()
    number = f"TKT-{first:06d}"  # portal.tickets.models.format_number
    probe_url = f"{url}?application_name={PROBE}"
    if args.mix:
        return measure_mix(url, probe_url, args.requests)
    pages = [
        ("admin", "ticket list", "/tickets"),
        ("admin", "search", "/tickets?q=printer"),
        ("admin", "ticket page", f"/tickets/{number}"),
        ("admin", "dashboard", "/dashboard"),
        ("agent", "ticket list (agent)", "/tickets"),
        ("admin", "analytics, 30 days", "/analytics"),
    ]
    log = common.RESULTS / "gunicorn-cpu.log"
    print(f"{name}: {args.requests} requests per page, one gunicorn worker, CPU ms per request")
    print("| page | app (gunicorn) | PostgreSQL | total |\n|---|---|---|---|")
    os.environ["DB_CONN_MAX_AGE"] = "600"  # one connection, one backend, for the whole run
    with gunicorn(probe_url, 1, log) as (port, _):
        master = _master_of(port)
        worker = worker_pid(master)
        sessions = {}
        for persona, email in PERSONAS.items():
            sessions[persona] = Session(port)
            sessions[persona].login(email)
        for persona, label, path in pages:
            app, db = measure(sessions[persona], path, args.requests, worker, url)
            print(f"| {label} | {app:.1f} | {db:.1f} | {app + db:.1f} |")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"(load average {os.getloadavg()[0]:.1f}; {when})")


def mix_pages(url: str) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """The GET pages of bench/run.py's mixed load as (persona, page, path), and the personas'
    e-mail addresses."""
    from bench.run import build_scenarios, path_of, read_info

    info = read_info(url)
    common.setup_django(url)
    scenarios, _ = build_scenarios(info)
    pages = [(s.role, s.page, path_of(s, 0)) for s in scenarios if s.load]  # as load_mix
    return pages, {role: p["email"] for role, p in info["personas"].items()}


def measure_mix(url: str, probe_url: str, requests: int) -> None:
    pages, emails = mix_pages(url)
    per_persona = {role: sum(1 for r, _, _ in pages if r == role) for role in emails}
    print(f"{len(pages)} pages of the mixed load, {requests} requests each, CPU ms per request")
    print("| page | persona | app | PostgreSQL | total |\n|---|---|--:|--:|--:|")
    os.environ["DB_CONN_MAX_AGE"] = "600"
    kinds: dict[str, list[float]] = {}
    log = common.RESULTS / "gunicorn-cpu.log"
    with gunicorn(probe_url, 1, log) as (port, _):
        worker = worker_pid(_master_of(port))
        sessions = {}
        for role, email in emails.items():
            sessions[role] = Session(port)
            sessions[role].login(email)
        for role, page, path in pages:
            if path == PAGE_TWO:  # as bench/run.py: the cursor from page 1
                _, first, _ = sessions[role].request("GET", PAGE_ONE)
                path = page_two(first.decode())
            app, db = measure(sessions[role], path, requests, worker, url)
            print(f"| {page} | {role} | {app:.1f} | {db:.1f} | {app + db:.1f} |")
            # The load's rotation: each persona's connection weighs its pages equally.
            kind = page.split(":")[0].split(" (")[0]
            kinds.setdefault(kind, [0.0, 0.0])
            kinds[kind][0] += (app + db) / per_persona[role]
            kinds[kind][1] += db / per_persona[role]
    whole = sum(total for total, _ in kinds.values())
    print("\n| kind of page | share of the load's CPU | of which PostgreSQL |\n|---|--:|--:|")
    for kind, (total, db) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        print(f"| {kind} | {total / whole:.0%} | {db / whole:.0%} |")
    # The personas make as many requests each: the average request is a persona's average.
    db = sum(db for _, db in kinds.values()) / len(emails)
    app = whole / len(emails) - db
    print(
        f"\nThe load's average request: {app:.1f} ms of app CPU and {db:.1f} ms of PostgreSQL's; "
        f"two cores doing nothing else would serve at most {2000 / (app + db):.0f} requests/s."
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"(load average {os.getloadavg()[0]:.1f}; {when})")


def measure(session: Session, path: str, requests: int, worker: int, url: str):
    """CPU ms per request of `path`: the worker's and its PostgreSQL backends'."""
    for _ in range(3):  # warm: templates compiled, caches filled
        session.request("GET", path)
    backends = backend_pids(url)
    app0, db0 = cpu_ms(worker), sum(cpu_ms(pid) for pid in backends)
    for _ in range(requests):
        status, _, _ = session.request("GET", path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    app = (cpu_ms(worker) - app0) / requests
    return app, (sum(cpu_ms(pid) for pid in backends) - db0) / requests


def _master_of(port: int) -> int:
    """The gunicorn master listening on `port` (the context manager does not expose it)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"portal.wsgi:application" in cmdline and f"127.0.0.1:{port}".encode() in cmdline:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid():
                return int(proc.name)
    raise SystemExit("gunicorn master not found")


if __name__ == "__main__":
    main()
