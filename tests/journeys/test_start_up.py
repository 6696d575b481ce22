"""What `make run` prints: the start-up lines, then the banner (URL and logins) last.
Reads the log of the portal the journeys use. (Each task on one line is proven in
portal/core/tests/test_task_logging.py.)"""

import time

import pytest

pytestmark = [pytest.mark.journey, pytest.mark.xdist_group("journeys")]

# Lines the web server and the worker print while starting.
START_UP = ("Watching for file changes", "System check", "Starting WSGI development server",
            "Quit the server with", "Starting worker", "development server")  # fmt: skip


def _log_with_banner(portal, timeout: float = 30) -> list[str]:
    """The log once the banner is in it: /healthz may answer (the worker's heartbeat runs)
    a moment before the worker prints that it has started."""
    deadline = time.monotonic() + timeout
    while True:
        lines = portal.log.read_text(errors="replace").splitlines()
        if any("Ticketing Portal: http://" in line for line in lines):
            return lines
        assert time.monotonic() < deadline, "no banner:\n" + portal.log_tail()
        time.sleep(0.2)  # polling the log, not waiting for a guessed duration


def test_the_banner_with_url_and_logins_is_the_last_thing_printed_at_start_up(portal):
    lines = _log_with_banner(portal)
    [banner] = [i for i, line in enumerate(lines) if "Ticketing Portal: http://" in line]
    assert portal.url in lines[banner]
    assert any("admin@example.com" in line for line in lines[banner : banner + 8])
    assert any("Starting worker" in line for line in lines[:banner])
    assert any("Quit the server with" in line for line in lines[:banner])
    assert [line for line in lines[banner:] if any(mark in line for mark in START_UP)] == []
