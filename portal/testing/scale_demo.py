"""`make scale-demo`: the portal on more than one machine, on one machine (docs/scaling.md).

Every server is real and private to the run, on free loopback ports, under one temporary
folder: a PostgreSQL primary and a streaming replica (pg_basebackup -R), a pgbouncer in
transaction pooling in front of each, Redis as the shared cache, two gunicorn app servers
behind HAProxy (health-checked on /healthz/ready, retrying and redispatching), two task
workers, and an SMTP server that counts what it receives. A load of sign-ins, pages,
searches, analytics and new tickets runs through HAProxy while one app server is killed
and the replica is stopped; then the checks:

- a session signed in through HAProxy works on both app servers;
- a lockout earned on one app server holds on the other; so does the API rate limit;
- one idempotency key sent twice at once (one request to each server) makes one ticket;
- after an app server is killed, no request is lost once HAProxy's health check dropped it
  (reads are retried by HAProxy; a new ticket is re-sent by the client with its key);
- with the replica stopped, searches and analytics are served from the primary, no error;
- each periodic job ran once per period although two workers schedule them;
- the two workers drained the mail queue and no message was sent twice.

Run: `make scale-demo` (bin/scale-demo). `tests/test_scale_demo.py` runs the same in CI.
"""

import contextlib
import csv
import io
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from portal.testing.database import ROOT, PostgresCluster, _bin_dir, manage
from portal.testing.redis import RedisServer
from portal.testing.replication import ReplicaCluster
from portal.testing.smtp import SmtpServer, free_port

PASSWORD = "correct horse battery staple"  # portal.testing.personas.PASSWORD
RATE_LIMIT = 30  # API requests per user per minute in the demo
# Seconds between the load's new tickets: 15 a minute, resends included, stay under it.
WRITE_SPACING = 4.0

SEED = """
import json
from portal.testing.personas import make_personas
from portal.testing.org import make_org
from portal.tickets.services import ticket_create
from portal.api.tokens import token_create
from portal.catalog.models import TeamMember
p = make_personas()
org = make_org(p)
words = ["printer", "laptop", "screen", "network", "password", "keyboard", "vpn", "mouse"]
for n in range(120):
    ticket_create(requester=p.requester, title=f"{words[n % 8]} problem {n}", description="-",
                  group=org.group_x, category=org.hardware, subcategory=org.laptop)
print(json.dumps({
    "spoc_token": token_create(user=p.spoc, name="rate").secret,
    "requester_token": token_create(user=p.requester, name="load").secret,
    "group": org.group_x.pk, "category": org.hardware.pk,
}))
"""


@dataclass
class Tally:
    """What the load saw, by phase (before the kill, in the window, after the drop...)."""

    ok: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)
    resent: int = 0
    tickets: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, phase: str, ok: bool, what: str) -> None:
        with self.lock:
            (self.ok if ok else self.failed)[phase] += 1
            if not ok:
                self.failures.append(f"{phase}: {what}")


class Demo:
    def __init__(self, workdir: Path | None = None, *, say=print):
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="portal-scale-"))
        self.say = say
        self.processes: dict[str, subprocess.Popen] = {}
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.phase = "warm-up"
        # The load's new tickets share one requester's API token, so they share its
        # per-minute limit (RATE_LIMIT) with the checks: pace them well under it, or a
        # quick machine earns the 429s the rate-limit check is there to prove.
        self._write_lock = threading.Lock()
        self._next_write_at = 0.0

    # --- servers -------------------------------------------------------------------------
    def start(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        for tool in ("haproxy", "pgbouncer", "redis-server"):
            if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
                raise RuntimeError(f"{tool} is not installed (Debian package {tool})")
        t0 = time.monotonic()
        self.primary = PostgresCluster(bin_dir)
        self.primary.init()
        self.primary.migrate_template()
        self.database = self.primary.new_database().rsplit("/", 1)[1]
        self.seed = json.loads(
            manage(self.primary.url(self.database), "shell", "-c", SEED).stdout.splitlines()[-1]
        )
        self.replica = ReplicaCluster(bin_dir)
        self.replica.init_from(self.primary)
        self.say(f"PostgreSQL primary :{self.primary.port}, replica :{self.replica.port}")
        self.pool_primary = self._pgbouncer("primary", self.primary.port, wait_timeout=30)
        self.pool_replica = self._pgbouncer("replica", self.replica.port, wait_timeout=2)
        self.say(
            f"pgbouncer (transaction pooling) :{self.pool_primary} → primary, "
            f":{self.pool_replica} → replica"
        )
        self.redis = RedisServer()
        self.redis.start()
        self.smtp = SmtpServer(port=free_port())
        self.smtp.start()
        self.say(f"Redis cache :{self.redis.port}, SMTP :{self.smtp.port}")
        # Each app server is handed a socket this process bound and listens on: a port
        # picked free and bound later could be taken in between by another test's server
        # (which then answers HAProxy's health check and goes away).
        listeners = [_listening_socket(), _listening_socket()]
        self.app_ports = [listener.getsockname()[1] for listener in listeners]
        try:
            for n, listener in enumerate(listeners, start=1):
                self._spawn(
                    f"app{n}",
                    [
                        str(Path(sys.executable).parent / "gunicorn"),
                        "portal.wsgi",
                        "--bind",
                        f"fd://{listener.fileno()}",
                        "--workers",
                        "2",
                        "--access-logfile",
                        "-",
                        "--graceful-timeout",
                        "5",
                    ],
                    listener=listener,
                )
        finally:
            # Only the app servers hold them: once one is killed, its port refuses connections.
            for listener in listeners:
                listener.close()
        self.workers_started = time.monotonic()
        for n in (1, 2):
            self._spawn(
                f"worker{n}",
                [
                    sys.executable,
                    "manage.py",
                    "run_worker",
                    "--interval",
                    "0.2",
                    "--no-reload",
                    "--worker-id",
                    f"worker{n}",
                ],
            )
        self.haproxy_port = free_port()
        self._haproxy()
        self.url = f"http://127.0.0.1:{self.haproxy_port}"

        def both_up() -> bool:
            return self._alive() and all(self._server_status(f"app{n}") == "UP" for n in (1, 2))

        self._wait(both_up, 90, "both app servers UP in HAProxy")
        # A process's first page imports the views (seconds on a busy machine): served
        # straight from each app server, so no health check waits behind it later.
        for port in self.app_ports:
            for _ in range(4):
                requests.get(f"http://127.0.0.1:{port}/login", timeout=60)
        self._wait(both_up, 90, "both app servers UP in HAProxy after warming up")
        self.say(
            f"HAProxy {self.url} → app1 :{self.app_ports[0]}, app2 :{self.app_ports[1]}; "
            f"2 workers; ready in {time.monotonic() - t0:.0f} s"
        )

    def env(self) -> dict[str, str]:
        db = f"postgres://postgres@127.0.0.1:{self.pool_primary}/portal"
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO"))},
            "DEBUG": "0",
            "SECRET_KEY": "scale-demo-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "APP_URL": "http://127.0.0.1",
            "HTTPS_ONLY": "0",
            "STATIC_MANIFEST": "0",
            "NUM_PROXIES": "1",
            "TWO_FACTOR_REQUIRED": "off",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": str(self.dir / "var"),
            "DATABASE_URL": db,
            "DB_TRANSACTION_POOLING": "1",
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{self.pool_replica}/portal",
            "REPLICA_CHECK_SECONDS": "1",
            "REPLICA_RETRY_SECONDS": "5",
            "CACHE_URL": self.redis.url,
            "API_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "SMTP_TLS": "0",
            "WORKER_HEARTBEAT_SECONDS": "1",
        }

    def _spawn(self, name: str, command: list[str], listener: socket.socket | None = None) -> None:
        log = (self.dir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(  # noqa: S603 (fixed arguments)
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its workers
            pass_fds=() if listener is None else (listener.fileno(),),
        )

    def _alive(self) -> bool:
        """True, or an error naming the server that exited while starting, with its log."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                logs = [self.dir / f"{name}.log", *(self.dir / name).glob("*.log")]
                log = next((p for p in logs if p.exists()), None)
                lines = log.read_text(errors="replace").splitlines() if log else []
                tail = "\n".join(lines[-15:])
                raise RuntimeError(f"{name} exited ({process.returncode}) while starting:\n{tail}")
        return True

    def _pgbouncer(self, name: str, server_port: int, *, wait_timeout: int) -> int:
        port = free_port()
        folder = self.dir / f"pgbouncer-{name}"
        folder.mkdir()
        (folder / "users.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\nportal = host=127.0.0.1 port={server_port} dbname={self.database} "
            "user=postgres\n\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
            "max_client_conn = 200\ndefault_pool_size = 10\n"
            # A replica that is down answers within seconds (the portal then uses the primary).
            f"query_wait_timeout = {wait_timeout}\nserver_connect_timeout = 2\n"
            "server_login_retry = 1\nignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {folder / 'pgbouncer.log'}\n"
        )
        if self.as_user:
            shutil.chown(folder, "postgres", "postgres")
            for child in folder.iterdir():
                shutil.chown(child, "postgres", "postgres")
        pgbouncer = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.processes[f"pgbouncer-{name}"] = subprocess.Popen(  # noqa: S603
            [*self.as_user, pgbouncer, str(folder / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait(lambda: _listening(port), 20, f"pgbouncer {name}")
        return port

    def _haproxy(self) -> None:
        self.haproxy_socket = self.dir / "haproxy.sock"
        servers = "\n".join(
            f"  server app{n} 127.0.0.1:{port} check"
            for n, port in enumerate(self.app_ports, start=1)
        )
        config = self.dir / "haproxy.cfg"
        config.write_text(f"""global
  maxconn 512
  stats socket {self.haproxy_socket} mode 600 level admin
  log stdout format raw local0 info
defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  # A busy sync worker answers the health check late: give it time before calling the
  # server down (a dead one refuses the connection at once and is dropped in ~1 s).
  timeout check 5s
  timeout client 60s
  timeout server 60s
  # A request that could not reach a server, or got no answer from one that died, is sent
  # again, to the other server (redispatch): reads only. A write (POST) is never re-sent by
  # the proxy, which cannot know whether it took effect; the client re-sends it with its
  # idempotency key.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
  option forwardfor
frontend web
  bind 127.0.0.1:{self.haproxy_port}
  default_backend app
backend app
  balance roundrobin
  http-request disable-l7-retry if METH_POST
  option httpchk
  http-check send meth GET uri /healthz/ready ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  default-server inter 1s fastinter 500ms fall 2 rise 2
{servers}
""")
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self._spawn("haproxy", [haproxy, "-db", "-f", str(config)])

    def _server_status(self, name: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(2)
                sock.connect(str(self.haproxy_socket))
                sock.sendall(b"show stat\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
        except OSError:
            return "?"
        rows = csv.reader(io.StringIO(data.decode().lstrip("# ")))
        header = next(rows)
        for row in rows:
            record = dict(zip(header, row, strict=False))
            if record.get("pxname") == "app" and record.get("svname") == name:
                return record["status"].split()[0]
        return "?"

    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)  # polling a condition

    def stop(self, *, keep_files: bool = False) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        for server in ("smtp", "redis"):
            if hasattr(self, server):
                getattr(self, server).stop()
        for cluster in ("replica", "primary"):
            if hasattr(self, cluster):
                getattr(self, cluster).destroy()
        if not keep_files:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tails(self, lines: int = 20) -> str:
        """The end of every server's log: what a failed run in CI leaves to read."""
        tails = []
        for log in sorted(self.dir.rglob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.relative_to(self.dir)}\n" + "\n".join(text))
        return "\n".join(tails)

    # --- clients -------------------------------------------------------------------------
    def signed_in(self, email: str) -> requests.Session:
        session = requests.Session()
        session.get(f"{self.url}/login", timeout=30)
        response = session.post(
            f"{self.url}/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{self.url}/login"},
            timeout=30,
            allow_redirects=False,
        )
        assert response.status_code == 302, (
            f"sign-in of {email}: {response.status_code} {_excerpt(response)}"
        )
        return session

    def api(self, token: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return session

    def sql(self, statement: str, *params):
        return self.primary.sql(statement, *params, database=self.database)

    def served_by(self, name: str, path: str) -> int:
        log = (self.dir / f"{name}.log").read_text(errors="replace")
        return len(re.findall(rf'"GET {re.escape(path)}[ ?]', log))

    # --- the checks ----------------------------------------------------------------------
    def check_sessions(self) -> str:
        agent = self.signed_in("agent@example.com")
        before = [self.served_by(n, "/dashboard") for n in ("app1", "app2")]
        for _ in range(6):
            page = agent.get(f"{self.url}/dashboard", timeout=30, allow_redirects=False)
            assert page.status_code == 200, f"dashboard answered {page.status_code}"
        after = [self.served_by(n, "/dashboard") for n in ("app1", "app2")]
        served = [a - b for a, b in zip(after, before, strict=True)]
        assert all(served), f"one session, both servers: {served}"
        return f"one session served by both app servers: {served[0]} + {served[1]} pages"

    def check_lockout(self) -> str:
        def attempt(password: str) -> int:
            client = requests.Session()
            client.get(f"{self.url}/login", timeout=30)
            return client.post(
                f"{self.url}/login",
                data={
                    "email": "lead@example.com",
                    "password": password,
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
                headers={"Referer": f"{self.url}/login"},
                timeout=30,
                allow_redirects=False,
            ).status_code

        statuses = [attempt("wrong password") for _ in range(5)]
        assert statuses == [400, 400, 400, 400, 429], statuses
        right = [attempt(PASSWORD) for _ in range(2)]  # one on each server
        assert right == [429, 429], right
        return "5 failures across both servers lock the account; both servers refuse it"

    def check_rate_limit(self) -> str:
        if time.time() % 60 > 40:  # all requests inside one fixed minute window
            time.sleep(61 - time.time() % 60)
        client = self.api(self.seed["spoc_token"])
        statuses = [
            client.get(f"{self.url}/api/v1/tickets", timeout=30).status_code
            for _ in range(RATE_LIMIT + 1)
        ]
        assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT, Counter(statuses)
        assert statuses[RATE_LIMIT] == 429, statuses[RATE_LIMIT]
        last = RATE_LIMIT + 1
        return f"API limit {RATE_LIMIT}/min counted across both servers: request {last} → 429"

    def check_idempotency(self) -> str:
        key = str(uuid.uuid4())
        body = self._ticket_body("one ticket, sent twice at once", key)
        client = self.api(self.seed["requester_token"])
        numbers: list = []
        barrier = threading.Barrier(2)

        def send() -> None:
            barrier.wait()
            response = client.post(f"{self.url}/api/v1/tickets", json=body, timeout=30)
            numbers.append((response.status_code, response.json().get("number")))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({number for _, number in numbers}) == 1, numbers
        [(count,)] = self.sql("SELECT count(*) FROM tickets_ticket WHERE idempotency_key = %s", key)
        assert count == 1, count
        return f"one idempotency key sent to both servers at once: one ticket ({numbers[0][1]})"

    def _ticket_body(self, title: str, key: str) -> dict:
        return {
            "title": title,
            "description": "Load test",
            "group": self.seed["group"],
            "category": self.seed["category"],
            "idempotency_key": key,
        }

    # --- load ----------------------------------------------------------------------------
    def load(self, tally: Tally, stop: threading.Event, email: str, writes: bool) -> None:
        session = self.signed_in(email)
        api = self.api(self.seed["requester_token"])
        reads = ["/tickets", "/tickets?q=printer", "/tickets?q=vpn", "/analytics", "/dashboard"]
        rng = random.Random(email)  # noqa: S311 (not for security)
        while not stop.is_set():
            path = rng.choice(reads)
            phase = self.phase
            try:
                page = session.get(f"{self.url}{path}", timeout=30, allow_redirects=False)
                tally.record(phase, page.status_code == 200, f"GET {path} {page.status_code}")
            except requests.RequestException as exc:
                tally.record(phase, False, f"GET {path} {exc.__class__.__name__}")
            if writes and rng.random() < 0.3 and self._write_turn():
                self._create_ticket(api, tally)

    def _write_turn(self) -> bool:
        """At most one new ticket every WRITE_SPACING seconds across all load threads."""
        with self._write_lock:
            now = time.monotonic()
            if now < self._next_write_at:
                return False
            self._next_write_at = now + WRITE_SPACING
            return True

    def _create_ticket(self, api: requests.Session, tally: Tally) -> None:
        """As a browser re-submitting the form: the same key until an answer comes."""
        key = str(uuid.uuid4())
        phase = self.phase
        for attempt in range(4):
            try:
                response = api.post(
                    f"{self.url}/api/v1/tickets",
                    timeout=30,
                    json=self._ticket_body("printer on fire", key),
                )
            except requests.RequestException:
                response = None
            if response is not None and response.status_code in (200, 201):
                tally.record(phase, True, "POST ticket")
                with tally.lock:
                    tally.resent += attempt
                    tally.tickets.add(key)
                return
        tally.record(phase, False, f"POST ticket {getattr(response, 'status_code', 'error')}")

    def run(self, *, seconds: float = 40) -> list[str]:
        """The whole scenario; returns what was shown, raises AssertionError on a failure."""
        results = [
            self.check_sessions(),
            self.check_lockout(),
            self.check_rate_limit(),
            self.check_idempotency(),
        ]
        for line in results:
            self.say("✓ " + line)
        tally = Tally()
        stop = threading.Event()
        people = [
            ("agent@example.com", True),
            ("admin@example.com", False),
            ("spoc@example.com", True),
        ]
        threads = [
            threading.Thread(target=self.load, args=(tally, stop, email, writes), daemon=True)
            for email, writes in people
        ]
        started = time.monotonic()
        self.phase = "both servers"
        for thread in threads:
            thread.start()
        time.sleep(seconds / 4)
        self.phase = "app1 killed, not yet dropped"
        os.killpg(self.processes["app1"].pid, signal.SIGKILL)
        killed = time.monotonic()
        self._wait(lambda: self._server_status("app1") == "DOWN", 30, "HAProxy to drop app1")
        dropped = time.monotonic() - killed
        self.phase = "app1 dropped"
        time.sleep(seconds / 4)
        self.replica.stop()
        self.phase = "app1 dropped, replica stopped"
        time.sleep(seconds / 2)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
        total = sum(tally.ok.values()) + sum(tally.failed.values())
        self.say(
            f"load: {total} requests in {elapsed:.0f} s through HAProxy; by phase "
            f"{dict(tally.ok)}; failed {dict(tally.failed)}; tickets re-sent {tally.resent}"
        )
        for phase in ("app1 dropped", "app1 dropped, replica stopped", "both servers"):
            assert not tally.failed[phase], (phase, tally.failures[:10])
        assert not tally.failed["app1 killed, not yet dropped"], tally.failures[:10]
        assert tally.ok["app1 dropped, replica stopped"], "no load after the replica stopped"
        results.append(
            f"app1 killed mid-load: dropped by HAProxy in {dropped:.1f} s; "
            f"{total} requests, none lost ({tally.resent} ticket posts re-sent "
            "with their key)"
        )
        results.append(
            "replica stopped mid-load: searches and analytics served by the "
            f"primary, {tally.ok['app1 dropped, replica stopped']} requests, no error"
        )
        [(made,)] = self.sql(
            "SELECT count(*) FROM tickets_ticket WHERE idempotency_key::text = ANY(%s)",
            list(tally.tickets),
        )
        assert made == len(tally.tickets), (made, len(tally.tickets))
        results.append(f"{made} tickets created under load, none doubled by a re-send")
        results.append(self.check_periodic_once(elapsed))
        results.append(self.check_mail_drained())
        for line in results[4:]:
            self.say("✓ " + line)
        return results

    def check_periodic_once(self, elapsed: float) -> str:
        rows = dict(
            self.sql(
                "SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult "
                "WHERE task_path IN ('portal.retention.tasks.run_retention', "
                "'portal.notifications.tasks.sweep_email_outbox') GROUP BY task_path"
            )
        )
        [(workers,)] = self.sql("SELECT count(DISTINCT worker_id) FROM core_workerheartbeat")
        assert workers == 2, workers
        assert rows.get("portal.retention.tasks.run_retention") == 1, rows
        sweeps = rows.get("portal.notifications.tasks.sweep_email_outbox", 0)
        lifetime = time.monotonic() - self.workers_started
        assert 1 <= sweeps <= lifetime // 30 + 1, (sweeps, lifetime)
        return (
            f"2 workers scheduling: the daily job ran once, the 30-second sweep {sweeps} "
            f"times in {lifetime:.0f} s"
        )

    def check_mail_drained(self) -> str:
        def pending() -> int:
            [(count,)] = self.sql(
                "SELECT count(*) FROM notifications_emaildelivery WHERE status <> 'sent'"
            )
            return count

        self._wait(lambda: pending() == 0, 120, "the mail queue to drain")
        [(sent,)] = self.sql("SELECT count(*) FROM notifications_emaildelivery")
        with self.smtp.lock:
            ids = [r.message["Message-ID"] for r in self.smtp.received]
        doubled = [k for k, n in Counter(ids).items() if n > 1]
        assert not doubled, doubled[:5]
        assert len(ids) == sent, (len(ids), sent)
        [(by_worker,)] = self.sql(
            "SELECT count(DISTINCT worker_ids ->> -1) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path = 'portal.notifications.tasks.deliver_emails'"
        )
        return f"{sent} mails sent once each by {by_worker} workers"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    # manage.py (migrate, seed) runs with DEBUG off like production: it needs a key.
    os.environ.setdefault("SECRET_KEY", "scale-demo-" + "x" * 40)
    demo = Demo()
    try:
        demo.start()
        demo.run(seconds=float(os.environ.get("SCALE_DEMO_SECONDS", "40")))
        print("All checks passed.")
        return 0
    except AssertionError as failure:
        print(f"CHECK FAILED: {failure}", file=sys.stderr)
        print(f"Logs were in {demo.dir}", file=sys.stderr)
        return 1
    finally:
        keep = bool(os.environ.get("SCALE_DEMO_KEEP"))
        demo.stop(keep_files=keep)
        if keep:
            print(f"Logs kept in {demo.dir}")


if __name__ == "__main__":
    sys.exit(main())


def _excerpt(response: requests.Response) -> str:
    """Who answered (HAProxy's own 503 names no server; the portal's is its error page)."""
    return " ".join(response.text.split())[:200]


def _listening_socket() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)  # gunicorn's own backlog: it does not listen again on a given socket
    return listener
