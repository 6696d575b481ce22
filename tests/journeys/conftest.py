"""The portal started the way `make run` starts it, and a browser to drive it.

`make run` migrates, loads the demo data and starts `bin/run-dev` (runserver and the task
worker side by side). The `portal` fixture does exactly that, once per session, in a
fresh temporary VAR_DIR (SQLite database, files and nothing else), with mail going to a
real SMTP server on loopback.

It runs from a snapshot of the source tree taken at the start (with `.venv` and
`node_modules` linked in): runserver and the worker reload whenever a watched file
changes, and on a shared working tree someone saving a file mid-run would otherwise
restart the server under a journey. Journeys talk to it over HTTP only: they never use
pytest-django's database (no `django_db` marker, so the test process has no database and
any ORM use here fails loudly).
"""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.testing.smtp import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
START_TIMEOUT = 90  # seconds for the web server and the worker to answer /healthz
# Every variable the portal reads (.env.example lists them): none may leak in from the
# shell or from the test process (pytest's own VAR_DIR, a CI DATABASE_URL...).
PORTAL_VARIABLES = {
    line.split("=", 1)[0].lstrip("# ").strip()
    for line in (ROOT / ".env.example").read_text().splitlines()
    if "=" in line and line.lstrip("# ")[:1].isupper()
}


@dataclass
class Portal:
    url: str
    var_dir: Path
    smtp: SmtpServer
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def smtp():
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()


def _health(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return json.load(response)
    except (OSError, ValueError):  # not listening yet, or a 503 while starting
        return None


def _snapshot(dest: Path) -> Path:
    """A copy of the source tree that nobody edits while the journeys run."""
    shutil.copytree(
        ROOT, dest, symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "__pycache__",
                                      ".ruff_cache", ".hypothesis", "docs", "bench"),
    )  # fmt: skip
    for name in (".venv", "node_modules"):
        (dest / name).symlink_to(ROOT / name)
    return dest


@pytest.fixture(scope="session")
def portal(smtp, tmp_path_factory):
    """`make run` on a fresh VAR_DIR: migrate, load_demo, then bin/run-dev in its own
    process group (killed whole at the end)."""
    # Under pytest's temporary folder, which keeps the last few runs: after a failure the
    # server's log (portal.log) and database are still there to read.
    var_dir = tmp_path_factory.mktemp("portal")
    tree = _snapshot(tmp_path_factory.mktemp("src") / "tree")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_VARIABLES}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        VAR_DIR=str(var_dir),
        DEBUG="1",
        PORT=str(port),
        APP_URL=url,  # links in emails point at this server
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="0",
        SMTP_TIMEOUT="5",
        EMAIL_RETRY_BASE_SECONDS="1",
        EMAIL_RETRY_MAX_SECONDS="2",
        EMAIL_MAX_ATTEMPTS="3",
        WORKER_HEARTBEAT_SECONDS="2",
    )
    log = var_dir / "portal.log"
    portal = Portal(url=url, var_dir=var_dir, smtp=smtp, log=log)
    with log.open("ab") as out:
        for command in (["migrate", "--no-input", "-v0"], ["load_demo"]):
            done = subprocess.run(  # noqa: S603
                [PYTHON, "manage.py", *command], cwd=tree, env=env, stdout=out, stderr=out
            )
            if done.returncode:
                pytest.fail(f"manage.py {command[0]} failed:\n{portal.log_tail()}")
        server = subprocess.Popen(  # noqa: S603
            [tree / "bin" / "run-dev"],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: runserver, worker, reloaders
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            health = _health(url)
            if health and health.get("worker", {}).get("status") == "ok":
                break
            if server.poll() is not None:
                pytest.fail(f"bin/run-dev exited with {server.returncode}:\n{portal.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"No healthy portal with a worker after {START_TIMEOUT} s: "
                    f"{health}\n{portal.log_tail()}"
                )
            time.sleep(0.25)  # polling /healthz, not waiting for a guessed duration
        yield portal
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        shutil.rmtree(tree, ignore_errors=True)


@pytest.fixture(scope="session")
def journey_browser(browser):
    """The suite's one Chromium (portal/testing/browser.py): Playwright's sync API allows
    a single instance per process, and other browser tests may share this worker."""
    return browser


@pytest.fixture
def new_page(journey_browser, portal):
    """`new_page()` opens a page on the portal in a fresh browser (no cookies shared)."""
    contexts = []

    def make(*, viewport=None, color_scheme="light"):
        context = journey_browser.new_context(
            base_url=portal.url,
            viewport=viewport or {"width": 1280, "height": 800},
            color_scheme=color_scheme,
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
