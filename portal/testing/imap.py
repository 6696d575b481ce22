"""A real IMAP server on loopback (pymap, in-memory backend) for email-in tests.

`imap_server` starts pymap in a child process on a free port with one user; `append(raw)`
puts a message in a folder over IMAP as any mail client would, and `uids(folder)` lists
what a folder holds. The server speaks the real protocol (UIDVALIDITY, UID FETCH, MOVE),
so the poller is tested against what it meets in production, not a mock.
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from imap_tools import MailBoxUnencrypted

from portal.testing.smtp import free_port

USER = "support@example.com"
PASSWORD = "imap-test-password"
_START = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())"


@dataclass
class ImapServer:
    port: int
    process: subprocess.Popen | None = None
    user: str = USER
    password: str = PASSWORD
    # Set: the server also offers XOAUTH2 and accepts exactly this bearer token for `user`
    # (portal/testing/pymap_xoauth2.py).
    bearer_token: str = ""

    def start(self) -> None:
        launcher = ["-m", "portal.testing.pymap_xoauth2"] if self.bearer_token else ["-c", _START]
        env = {
            **os.environ,
            "PYMAP_XOAUTH2_TOKEN": self.bearer_token,
            "PYMAP_XOAUTH2_USER": self.user,
        }
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
            [
                sys.executable,
                *launcher,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-tls",
                "dict",
                "--demo-user",
                self.user,
                "--demo-password",
                self.password,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pymap exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # waiting for the server to listen, not for timing
        raise RuntimeError("pymap did not start listening within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # a client connection keeps it waiting
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None

    def empty(self) -> None:
        """Every folder emptied and every folder but INBOX removed: a fresh mailbox."""
        with self.client() as box:
            for info in box.folder.list():
                box.folder.set(info.name)
                uids = box.uids("ALL")
                if uids:
                    box.delete(uids)
                if info.name != "INBOX":
                    box.folder.set("INBOX")
                    box.folder.delete(info.name)

    def client(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(
            self.user, self.password, initial_folder=None
        )

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        """APPEND each message, in order, in one session (a login costs pymap ~0.4 s)."""
        with self.client() as box:
            if not box.folder.exists(folder):
                box.folder.create(folder)
            for raw in raws:
                box.append(raw, folder)

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder)
            return sorted(int(uid) for uid in box.uids("ALL"))


@pytest.fixture(scope="session")
def _imap_process():
    server = ImapServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_server(_imap_process):
    """The session's IMAP server (started once: pymap takes a second to start), emptied
    for each test."""
    _imap_process.empty()
    return _imap_process


BEARER_TOKEN = "eyJ0eXAi.m365-test-access-token.sig"  # noqa: S105  (a test value)


@pytest.fixture(scope="session")
def _imap_oauth_process():
    server = ImapServer(port=free_port(), bearer_token=BEARER_TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_oauth_server(_imap_oauth_process):
    """A second pymap that also offers XOAUTH2 and accepts BEARER_TOKEN (Microsoft 365
    tests), emptied for each test."""
    _imap_oauth_process.empty()
    return _imap_oauth_process
