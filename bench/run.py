"""Measure the portal at one data size: latency over HTTP, SQL per page, EXPLAIN, load.

    BENCH_TICKETS=100000 .venv/bin/python bench/run.py [--requests 30] [--repeats 3]
        [--workers 3] [--load-seconds 30] [--counts-only] [--no-markdown]

Needs the database `bench/generate.py` made for that size. Three phases:
1. In process (production settings, Django's test Client signed in as each persona): the
   status and SQL query count of every page and action, the page's main query (the slowest
   one the request ran) and `EXPLAIN (ANALYZE, BUFFERS)` of it (writes are explained inside a
   transaction that is rolled back).
2. Over HTTP: gunicorn with production settings (DEBUG=0, HTTPS_ONLY=0 so it serves plain
   HTTP on 127.0.0.1) on a free port; each persona signs in through /login with a real CSRF
   token; after a warm-up, `--requests` timed requests per page, `--repeats` times; the
   figures are medians over the repeats, with the spread of the repeat medians.
3. Load: wrk (if installed) or a thread pool with keep-alive sessions, for a bounded time,
   against 127.0.0.1 only: throughput, latency and errors (any status other than 2xx/3xx).

Writes bench/results/<size>-<time>.json and appends a table to docs/benchmarks.md.
`--counts-only` runs phase 1 without EXPLAIN (what bench/ci_check.py uses).
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, generate_forms  # noqa: E402

ROLES = ("requester", "agent", "lead", "spoc", "admin")
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
AFTER_RE = re.compile(r"after=([A-Za-z0-9_\-]+)")
PAGE_ONE = "/tickets?view=all"
PAGE_TWO = f"{PAGE_ONE}&after="  # "list: page 2 (cursor)": its cursor from page 1 (page_two)


def page_two(first_page: str) -> str:
    """The path of the page after `first_page` (page 1's HTML), by its "next" cursor."""
    match = AFTER_RE.search(first_page)
    return f"{PAGE_TWO}{match.group(1)}" if match else PAGE_ONE


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Scenario:
    page: str  # what is measured, e.g. "list: mine"
    role: str
    path: str
    method: str = "GET"
    form: object = None  # (i) -> dict of POST fields, for actions
    expect: tuple = (200,)
    load: bool = True  # part of the concurrency mix (GETs only)
    result: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.page} [{self.role}]"


def read_info(url: str) -> dict:
    import psycopg

    try:
        with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
            info = dict(conn.execute("SELECT key, value FROM bench_info").fetchall())
    except psycopg.Error as error:
        raise SystemExit(
            f"No benchmark data in {url.rsplit('/', 1)[-1]}: run bench/generate.py first ({error})"
        ) from None
    if not info.get("complete"):
        raise SystemExit("The benchmark database is incomplete: run bench/generate.py again")
    return info


# --- Scenarios ------------------------------------------------------------------------------


def django_on_bench_database() -> dict:
    """Django set up on the benchmark database of BENCH_TICKETS (production settings, as
    `common.setup_django` makes them), and that database's facts (`read_info`): how the
    in-process scripts begin."""
    url = common.database_url(common.database_name(common.tickets_from_env()))
    common.setup_django(url)
    return read_info(url)


def build_scenarios(info: dict) -> tuple[list[Scenario], list[str]]:
    """Every page and action to measure, and notes on what was skipped."""
    from django.urls import Resolver404, resolve

    from portal.accounts.models import User
    from portal.accounts.roles import user_roles
    from portal.tickets.filters import available_views
    from portal.tickets.models import format_number

    notes = []
    scenarios: list[Scenario] = []
    users = {role: User.objects.get(pk=p["id"]) for role, p in info["personas"].items()}
    for role in ROLES:
        for key, _label in available_views(user_roles(users[role])):
            scenarios.append(Scenario(f"list: {key}", role, f"/tickets?view={key}"))
    group, category = info["top_group"], info["top_category"]
    filtered = urlencode(
        [("view", "all"), ("status", "new"), ("status", "in_progress"), ("priority", "high"),
         ("priority", "urgent"), ("group", group), ("sort", "-priority")]
    )  # fmt: skip
    for role in ("agent", "spoc", "admin"):
        scenarios.append(Scenario("list: filtered + sorted", role, f"/tickets?{filtered}"))
    scenarios.append(Scenario("list: page 2 (cursor)", "admin", PAGE_TWO))
    words = info["search"]
    for role in ROLES:
        scenarios.append(Scenario("search: common word", role, f"/tickets?q={words['common']}"))
    scenarios.append(
        Scenario("search: two words", "agent", "/tickets?" + urlencode({"q": words["medium"]}))
    )
    scenarios.append(Scenario("search: rare code", "admin", f"/tickets?q={words['rare']}"))
    scenarios.append(Scenario("search: no match", "admin", f"/tickets?q={words['none']}"))
    number = format_number(info["showcase"][0])
    scenarios.append(Scenario("search: ticket number", "agent", f"/tickets?q={number}"))
    for role in ROLES:
        scenarios.append(Scenario("ticket page (20 comments)", role, f"/tickets/{number}"))
    for role in ROLES:
        scenarios.append(Scenario("dashboard", role, "/dashboard"))
    # Notifications: the page (newest 30 of the person's) and the bell's unread count, which
    # every open page polls every 30 s (the most frequent request of all).
    for role in ROLES:
        scenarios.append(Scenario("notifications", role, "/notifications"))
    for role in ROLES:
        scenarios.append(Scenario("bell (unread count)", role, "/notifications/bell"))
    files_ticket = info.get("files_ticket")
    if files_ticket:
        # A showcase ticket with real files (two with the ticket, one on a public and one on
        # an internal comment): thumbnails and file lists. Nobody comments on it here.
        for role in ROLES:
            scenarios.append(
                Scenario("ticket page (20 comments, files)", role,
                         f"/tickets/{format_number(files_ticket)}")
            )  # fmt: skip
    else:
        notes.append("ticket page with files: the database predates them (generate again)")

    answers = generate_forms.page_inputs(category)  # the category's request form

    def create_form(i: int) -> dict:
        return {
            **answers,
            "title": f"Laptop docking station flickers {i}",
            "description": "Since this morning my docking station keeps disconnecting the monitor.",
            "group": group,
            "category": category,
            "subcategory": "",
            "priority": "",
            "idempotency_key": str(uuid.uuid4()),
        }

    scenarios.append(
        Scenario("create ticket (POST)", "requester", "/tickets/new", "POST", create_form,
                 expect=(302,), load=False)
    )  # fmt: skip
    targets = [format_number(pk) for pk in info["showcase"][1:] if pk != files_ticket]

    def comment_path(i: int) -> str:
        return f"/tickets/{targets[i % len(targets)]}/comments"

    scenarios.append(
        Scenario("add comment (POST)", "agent", comment_path, "POST",
                 lambda i: {"body": f"Checked the docking station firmware, attempt {i}."},
                 expect=(302,), load=False)
    )  # fmt: skip
    for optional, label in (("/analytics", "analytics"), ("/api/v1/tickets", "API list")):
        try:
            resolve(optional)
        except Resolver404:
            notes.append(f"{label} ({optional}) does not exist yet: skipped")
            continue
        # Both are for people who work tickets; requesters get a documented 403.
        for role in ROLES:
            if user_roles(users[role]).works_tickets:
                scenarios.append(Scenario(label, role, optional))
    # Issue 7's target is the whole organisation over 90 days (the default period is 30).
    scenarios.append(Scenario("analytics: 90 days", "admin", "/analytics?period=90"))
    return scenarios, notes


def path_of(scenario: Scenario, i: int) -> str:
    return scenario.path(i) if callable(scenario.path) else scenario.path


# --- Phase 1: in process ------------------------------------------------------------------


def measure_in_process(info: dict, scenarios: list[Scenario], *, explain: bool, runs: int):
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.accounts.models import User

    clients = {}
    for role, persona in info["personas"].items():
        client = Client()
        client.force_login(User.objects.get(pk=persona["id"]))
        client.get("/dashboard")  # the session's first refresh is not part of any count
        clients[role] = client

    # Page 2 needs a cursor from page 1.
    for scenario in scenarios:
        if scenario.path == PAGE_TWO:
            scenario.path = page_two(clients[scenario.role].get(PAGE_ONE).content.decode())

    for scenario in scenarios:
        client = clients[scenario.role]
        counts, statuses, timings = [], [], []
        for i in range(3):
            with CaptureQueriesContext(connection) as queries:
                if scenario.method == "POST":
                    response = client.post(path_of(scenario, i), scenario.form(i))
                else:
                    response = client.get(path_of(scenario, i))
            counts.append(len(queries.captured_queries))
            statuses.append(response.status_code)
            timings.append([float(q["time"]) for q in queries.captured_queries])
            last = queries.captured_queries
        # A once-a-minute session refresh may add a write to one of the three: take the least.
        result = {
            "queries": min(counts),
            "query_counts": counts,
            "statuses": statuses,
            "ok": all(s in scenario.expect for s in statuses),
            "sql_ms": round(1000 * statistics.median(sum(t) for t in timings), 2),
        }
        if explain and last:
            result.update(main_query(connection, transaction, last, runs))
        scenario.result.update(result)
        flag = "" if result["ok"] else f"  <-- expected {scenario.expect}"
        log(
            f"  {scenario.key:45} {statuses[-1]} {result['queries']:3} queries"
            + (f", main query {result['explain_ms']:.2f} ms" if "explain_ms" in result else "")
            + flag
        )


EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


def main_query(connection, transaction, captured: list[dict], runs: int) -> dict:
    """The request's most expensive query by EXPLAIN ANALYZE, and its median timing."""
    # A UNION of parenthesised SELECTs starts with "(".
    candidates = [
        q["sql"] for q in captured if q["sql"].lstrip("( ").upper().startswith(EXPLAINABLE)
    ]
    if not candidates:
        return {}
    from django.db import DatabaseError

    costs = []
    for sql in candidates:
        try:
            costs.append((explain_query(connection, transaction, sql, 1)["explain_ms"], sql))
        except DatabaseError:
            # Replaying a write can collide with the row the request itself made (a unique
            # idempotency key, say): such a statement is not the page's main query anyway.
            continue
    if not costs:
        return {}
    _, sql = max(costs, key=lambda pair: pair[0])
    return {"main_sql": sql, **explain_query(connection, transaction, sql, runs)}


def explain_query(connection, transaction, sql: str, runs: int) -> dict:
    """Median planning + execution time of EXPLAIN (ANALYZE, BUFFERS) over `runs` runs."""
    times, planning, plan = [], [], None
    write = not sql.lstrip().upper().startswith(("SELECT", "WITH"))
    for _ in range(runs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            if write:
                transaction.set_rollback(True)
        if isinstance(plan, str):
            plan = json.loads(plan)
        top = plan[0]
        times.append(top["Planning Time"] + top["Execution Time"])
        planning.append(top["Planning Time"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        text = "\n".join(row[0] for row in cursor.fetchall())
        if write:
            transaction.set_rollback(True)
    return {
        "explain_ms": round(statistics.median(times), 3),
        "planning_ms": round(statistics.median(planning), 3),
        "plan": text,
    }


# --- Phase 2: over HTTP -----------------------------------------------------------------------


class Session:
    """One signed-in browser: cookies, a CSRF token, a connection to gunicorn."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, data: dict | None = None):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode({**data, "csrfmiddlewaretoken": self.token}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, payload, elapsed

    def login(self, email: str) -> None:
        status, page, _ = self.request("GET", "/login")
        match = TOKEN_RE.search(page.decode())
        if status != 200 or not match:
            raise SystemExit(f"/login answered {status} without a CSRF token")
        self.token = match.group(1)
        status, _, _ = self.request("POST", "/login", {"email": email, "password": common.PASSWORD})
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"signing in as {email} failed: HTTP {status}")
        # Signing in rotates the CSRF secret: take the token a form page now carries.
        status, page, _ = self.request("GET", "/tickets/new")
        match = TOKEN_RE.search(page.decode())
        if status != 200 or not match:
            raise SystemExit(f"/tickets/new answered {status} for {email}")
        self.token = match.group(1)

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, workers: int, log_path: Path):
    port = free_port()
    env = {**os.environ, **common.production_env(url)}
    command = [
        str(common.ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "120",
        "--log-level", "warning",
    ]  # fmt: skip
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, cwd=common.ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/login", headers={"Host": "127.0.0.1"})
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start; see {log_path}")
                time.sleep(0.3)
            yield port, command
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure_http(port: int, info: dict, scenarios: list[Scenario], args) -> dict:
    sessions = {}
    for role, persona in info["personas"].items():
        session = Session(port)
        session.login(persona["email"])
        sessions[role] = session
    counter = {"post": 1000}
    for scenario in scenarios:
        session = sessions[scenario.role]
        repeats, errors = [], []

        def one(session=session, scenario=scenario, errors=errors):
            counter["post"] += 1
            i = counter["post"]
            data = scenario.form(i) if scenario.form else None
            status, _, elapsed = session.request(scenario.method, path_of(scenario, i), data)
            if status not in scenario.expect and len(errors) < 5:
                errors.append(status)
            return status, elapsed

        for _ in range(args.warmup):
            one()
        error_count, done = 0, 0
        # A page that is very slow at this size gets fewer requests (the count is recorded),
        # so one slow page cannot stretch the whole run by tens of minutes.
        deadline = time.monotonic() + args.page_seconds
        for _ in range(args.repeats):
            times = []
            for _ in range(args.requests):
                if times and time.monotonic() > deadline:
                    break
                status, elapsed = one()
                error_count += status not in scenario.expect
                times.append(elapsed * 1000)
            done += len(times)
            repeats.append(
                {"p50": statistics.median(times), "p95": percentile(times, 0.95), "max": max(times)}
            )
        p50s = [r["p50"] for r in repeats]
        scenario.result.update(
            {
                "requests": done,
                "p50_ms": round(statistics.median(p50s), 2),
                "p95_ms": round(statistics.median(r["p95"] for r in repeats), 2),
                "max_ms": round(max(r["max"] for r in repeats), 2),
                "p50_spread_ms": [round(min(p50s), 2), round(max(p50s), 2)],
                "http_errors": error_count,
                "error_statuses": errors,
            }
        )
        explain_ms = scenario.result.get("explain_ms")
        if explain_ms:
            scenario.result["ratio"] = round(scenario.result["p50_ms"] / explain_ms, 1)
        log(
            f"  {scenario.key:45} p50 {scenario.result['p50_ms']:7.2f}  "
            f"p95 {scenario.result['p95_ms']:7.2f}  max {scenario.result['max_ms']:7.2f} ms"
            + (f"  ERRORS {error_count} {errors}" if error_count else "")
        )
    return sessions


# --- Phase 3: load --------------------------------------------------------------------------

WRK_SCRIPT = """
local sets = %(sets)s
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("slot", counter)
end
function init(args)
  local set = sets[((slot - 1) %% #sets) + 1]
  paths, cookie, i = set.paths, set.cookie, 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = cookie, ["Host"] = "127.0.0.1"})
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_mix(sessions: dict, scenarios: list[Scenario]) -> dict[str, tuple[str, list[str]]]:
    mix = {}
    for role, session in sessions.items():
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        paths = [path_of(s, 0) for s in scenarios if s.role == role and s.load]
        mix[role] = (cookie, paths)
    return mix


def run_wrk(port: int, mix: dict, seconds: int, connections: int) -> dict:
    sets = ", ".join(
        f"{{cookie = {lua_string(cookie)}, paths = {{{', '.join(map(lua_string, paths))}}}}}"
        for cookie, paths in mix.values()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"sets": "{" + sets + "}"})
    threads = len(mix)
    command = [
        "wrk", "--latency", "-t", str(threads), "-c", str(max(connections, threads)),
        "-d", f"{seconds}s", "--timeout", "10s", "-s", script.name, f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    os.unlink(script.name)

    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else default

    def ms(label: str) -> float | None:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    requests = int(number(r"(\d+) requests in"))
    non_2xx = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "tool": "wrk",
        "command": " ".join(command[:-3] + ["<mix.lua>", command[-1]]),
        "seconds": seconds,
        "connections": max(connections, threads),
        "requests": requests,
        "throughput_rps": round(number(r"Requests/sec:\s+([\d.]+)"), 1),
        "errors": non_2xx + socket_errors,
        "non_2xx_3xx": non_2xx,
        "socket_errors": socket_errors,
        "p50_ms": ms("50%"),
        "p90_ms": ms("90%"),
        "p99_ms": ms("99%"),
        "raw": output,
    }


def run_threads(port: int, mix: dict, seconds: int, connections: int) -> dict:
    """The fallback when wrk is missing: threads with their own connection each."""
    deadline = time.monotonic() + seconds
    latencies, errors, lock = [], [0], threading.Lock()
    roles = list(mix)

    def worker(slot: int) -> None:
        cookie, paths = mix[roles[slot % len(roles)]]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i, mine, bad = 0, [], 0
        while time.monotonic() < deadline:
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", paths[i % len(paths)], headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                bad += not (200 <= response.status < 400)
            except (http.client.HTTPException, OSError):
                conn.close()
                bad += 1
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "tool": "python threads",
        "seconds": seconds,
        "connections": connections,
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / seconds, 1),
        "errors": errors[0],
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p90_ms": round(percentile(latencies, 0.9), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


def find_sustainable(port: int, mix: dict, run_load, steps: list[int], seconds: int) -> dict:
    """Short runs at rising connection counts; the sustainable level is the fewest
    connections reaching 95% of the best error-free throughput. Past that point more
    clients only queue (latency grows, throughput does not), which is the machine's
    ceiling rather than a level it sustains."""
    runs = []
    for connections in steps:
        log(f"  step: {connections} connections for {seconds}s")
        result = run_load(port, mix, seconds, connections)
        result.pop("raw", None)
        runs.append(result)
        log(
            f"    {result['throughput_rps']} requests/s, {result['errors']} errors, "
            f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )
    clean = [r for r in runs if not r["errors"]] or runs
    best = max(r["throughput_rps"] for r in clean)
    chosen = min(
        (r for r in clean if r["throughput_rps"] >= 0.95 * best), key=lambda r: r["connections"]
    )
    return {"steps": runs, "best_rps": best, "chosen_connections": chosen["connections"]}


# --- Report ---------------------------------------------------------------------------------


def machine(url: str) -> dict:
    import psycopg

    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        size = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "postgresql": version,
        "python": platform.python_version(),
        "database_size": size,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> str:
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"] + " (clean export, see bench/at-commit.sh)"

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607 - git from PATH, like the Makefile
            cwd=common.ROOT,
            capture_output=True,
            text=True,
            check=False,  # noqa: S607
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" (plus uncommitted changes in the shared working tree)" if dirty else "")


def num(value) -> str:
    """Milliseconds for people: 3 significant figures is all the noise allows."""
    if value in (None, ""):
        return ""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(report: dict) -> str:
    m, size = report["machine"], report["data"]
    lines = [
        "",
        f"### {size['tickets']:,} tickets — {report['started_at'][:16].replace('T', ' ')} UTC",
        "",
        f"- Data: {size['tickets']:,} tickets, {size['comments']:,} comments, "
        f"{size['events']:,} history events, {size['users']:,} users ({m['database_size']}).",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}; shared with other engineers' work "
        f"(load average at start {m['load_average']}).",
        f"- Commit {report['commit']}; `{report['command']}`; gunicorn {report['workers']} sync "
        f"workers, production settings, plain HTTP on 127.0.0.1.",
        f"- Latency: {report['settings']['repeats']} repeats × {report['settings']['requests']} "
        f"requests after {report['settings']['warmup']} warm-up requests, one client at a time; "
        "figures are medians over the repeats; *spread* is the lowest and highest repeat p50. "
        "*Main query* is EXPLAIN (ANALYZE, BUFFERS) planning + execution of the slowest query "
        "the page ran (median of several runs), planning alone in brackets; *SQL* is all the "
        "page's queries as Django timed them in process (1 ms resolution); *ratio* is p50 / "
        "main query.",
        "",
        "| page | role | queries | p50 ms | p95 ms | max ms | p50 spread "
        "| main query ms (planning) | SQL ms | ratio |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in report["scenarios"]:
        r = s["result"]
        spread = r.get("p50_spread_ms", ["", ""])
        flag = "" if r.get("ok", True) and not r.get("http_errors") else " ⚠"
        main = f"{num(r['explain_ms'])} ({num(r['planning_ms'])})" if "explain_ms" in r else ""
        cells = [
            f"{s['page']}{flag}", s["role"], r.get("queries", ""), num(r.get("p50_ms")),
            num(r.get("p95_ms")), num(r.get("max_ms")),
            f"{num(spread[0])}–{num(spread[1])}",
            main,
            num(r.get("sql_ms")), num(r.get("ratio")),
        ]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    load = report.get("load")
    if load:
        lines += [
            "",
            f"Load ({load['tool']}, {load['connections']} connections, {load['seconds']} s, GET "
            f"pages of all five personas in rotation): **{load['throughput_rps']} requests/s**, "
            f"{load['requests']:,} requests, **{load['errors']} errors**; latency p50 "
            f"{load['p50_ms']} ms, p90 {load['p90_ms']} ms, p99 {load['p99_ms']} ms.",
        ]
    steps = report.get("load_steps")
    if steps:
        lines += [
            "",
            f"Finding the sustainable level ({steps['steps'][0]['seconds']} s per step): "
            + "; ".join(
                f"{r['connections']} connections {r['throughput_rps']} requests/s, "
                f"p99 {r['p99_ms']} ms, {r['errors']} errors"
                for r in steps["steps"]
            )
            + f". Chosen: **{steps['chosen_connections']} connections** (the fewest reaching 95% "
            f"of the best, {steps['best_rps']} requests/s).",
        ]
    for note in report["notes"]:
        lines.append(f"- Note: {note}")
    return "\n".join(lines) + "\n"


DOC_INTRO = """# Benchmarks

How fast the portal is at 10k, 100k and 1M tickets, measured by `bench/` (issue 9). Each run
appends a section; newer sections are further down. Figures come from a shared 2-core
machine, so read them as medians with their spread, not as exact numbers.

Reproduce: `BENCH_TICKETS=100000 .venv/bin/python bench/generate.py` then
`BENCH_TICKETS=100000 .venv/bin/python bench/run.py` (see the docstrings of both scripts).
"""


def append_markdown(text: str) -> Path:
    path = common.OUTPUT_ROOT / "docs" / "benchmarks.md"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(DOC_INTRO)
    with path.open("a") as handle:
        handle.write(text)
    return path


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=None, help="default: BENCH_TICKETS or 10000")
    parser.add_argument("--database", help="default: portal_bench_<tickets>")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4)")
    parser.add_argument("--explain-runs", type=int, default=5)
    parser.add_argument(
        "--page-seconds", type=float, default=60, help="time budget per page (fewer requests)"
    )
    parser.add_argument("--load-seconds", type=int, default=30, help="0 skips the load run")
    parser.add_argument("--load-connections", type=int, default=10)
    parser.add_argument(
        "--load-steps",
        help="connection counts to try first (e.g. 1,2,4,8,16); the load run then uses the "
        "fewest that reach 95%% of the best throughput with no errors",
    )
    parser.add_argument("--step-seconds", type=int, default=20)
    parser.add_argument("--only", help="only pages whose name contains one of these (a,b)")
    parser.add_argument("--no-http", action="store_true", help="phase 1 only, with EXPLAIN")
    parser.add_argument("--counts-only", action="store_true", help="phase 1 without EXPLAIN")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--no-markdown", action="store_true")
    args = parser.parse_args()
    tickets = args.tickets or common.tickets_from_env()
    name = common.database_name(tickets, args.database)
    url = common.database_url(name)
    info = read_info(url)
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    common.setup_django(url)

    scenarios, notes = build_scenarios(info)
    if args.only:
        wanted = args.only.split(",")
        scenarios = [s for s in scenarios if any(w in s.page for w in wanted)]
    log(f"{name}: {len(scenarios)} pages and actions; in-process counts")
    measure_in_process(info, scenarios, explain=not args.counts_only, runs=args.explain_runs)
    report = {
        "started_at": started,
        "database": name,
        "data": {k: info[k] for k in ("tickets", "comments", "events", "users", "seed")},
        "machine": machine(url),
        "commit": git_commit(),
        "command": " ".join(
            ["BENCH_TICKETS=" + str(tickets), ".venv/bin/python bench/run.py", *sys.argv[1:]]
        ),
        "workers": args.workers,
        "settings": {
            k: getattr(args, k) for k in ("requests", "repeats", "warmup", "explain_runs")
        },
        "notes": notes,
    }
    if not (args.counts_only or args.no_http):
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        log_path = common.RESULTS / f"gunicorn-{tickets}.log"
        with gunicorn(url, args.workers, log_path) as (port, _):
            log(f"gunicorn on 127.0.0.1:{port}, {args.workers} workers; HTTP latency")
            sessions = measure_http(port, info, scenarios, args)
            if args.load_seconds:
                mix = load_mix(sessions, scenarios)
                run_load = run_wrk if shutil.which("wrk") else run_threads
                connections = args.load_connections
                if args.load_steps:
                    steps = [int(n) for n in args.load_steps.split(",")]
                    report["load_steps"] = find_sustainable(
                        port, mix, run_load, steps, args.step_seconds
                    )
                    connections = report["load_steps"]["chosen_connections"]
                log(f"load for {args.load_seconds}s with {connections} connections")
                report["load"] = run_load(port, mix, args.load_seconds, connections)
                report["load"].pop("raw", None)
                load = report["load"]
                log(
                    f"  {load['throughput_rps']} requests/s, {load['errors']} errors, "
                    f"p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms"
                )
            for session in sessions.values():
                session.close()
        report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        notes.append(
            "Requests that changed data (tickets created, comments added) stay in the database; "
            "the ticket page measured is not one of those commented on."
        )
    report["scenarios"] = [
        {
            "page": s.page,
            "role": s.role,
            "path": path_of(s, 0),
            "method": s.method,
            "result": s.result,
        }
        for s in scenarios
    ]
    report["ok"] = all(s.result.get("ok") and not s.result.get("http_errors") for s in scenarios)
    if args.counts_only or args.no_http:
        report["partial"] = "in-process phase only"
    out = args.json or common.RESULTS / f"{tickets}-{started.replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"results in {out}")
    if not (args.counts_only or args.no_http or args.no_markdown):
        log(f"table appended to {append_markdown(markdown(report))}")
    if not report["ok"]:
        raise SystemExit("some pages answered with an unexpected status (see above)")


if __name__ == "__main__":
    main()
