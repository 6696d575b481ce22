"""Real IMAP servers on loopback for email-in tests: pymap and Dovecot.

`imap_server` starts pymap (in-memory backend) in a child process on a free port with one
user; `append(raw)` puts a message in a folder over IMAP as any mail client would, and
`uids(folder)` lists what a folder holds. The server speaks the real protocol
(UIDVALIDITY, UID FETCH, MOVE), so the poller is tested against what it meets in
production, not a mock.

Dovecot (Debian's `dovecot-imapd`, installed by `.ci/run`) is the server most
organisations run; a test asks for it with `@on_both_servers` (pymap, then Dovecot) or
the `dovecot_server` fixture. `DovecotServer` writes a private configuration in a
temporary folder (its own base_dir, state, log, passwd-file with one user, Maildir), listens
on a loopback port and is a child of the test process: no system service, nothing outside
the folder. As root the mail is owned by the system's `mail` user (Dovecot never reads
mail as root); otherwise everything runs as the current user. Without the binary its tests
are skipped, saying why.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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
        process = self.process
        _wait_listening(process, self.port, "pymap", lambda: process.stderr.read().decode()[-2000:])

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    def empty(self) -> None:
        empty(self)

    def client(self) -> MailBoxUnencrypted:
        return client(self)

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        append(self, *raws, folder=folder)

    def uids(self, folder: str = "INBOX") -> list[int]:
        return uids(self, folder)


def _wait_listening(process: subprocess.Popen, port: int, name: str, log=None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log() if log else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # waiting for the server to listen, not for timing
    raise RuntimeError(f"{name} did not start listening within 20 s")


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a client connection keeps it waiting
            process.kill()
            process.wait(timeout=5)


# What a test does with either server, over IMAP as a mail client would.


def empty(server) -> None:
    """Every folder emptied and every folder but INBOX removed: a fresh mailbox."""
    with server.client() as box:
        for info in box.folder.list():
            box.folder.set(info.name)
            found = box.uids("ALL")
            if found:
                box.delete(found)
            if info.name != "INBOX":
                box.folder.set("INBOX")
                box.folder.delete(info.name)


def client(server) -> MailBoxUnencrypted:
    return MailBoxUnencrypted("127.0.0.1", server.port, timeout=10).login(
        server.user, server.password, initial_folder=None
    )


def append(server, *raws: bytes, folder: str = "INBOX") -> None:
    """APPEND each message, in order, in one session (a login costs pymap ~0.4 s)."""
    with server.client() as box:
        if not box.folder.exists(folder):
            box.folder.create(folder)
        for raw in raws:
            box.append(raw, folder)


def uids(server, folder: str = "INBOX") -> list[int]:
    with server.client() as box:
        if not box.folder.exists(folder):
            return []
        box.folder.set(folder)
        return sorted(int(uid) for uid in box.uids("ALL"))


DOVECOT = "/usr/sbin/dovecot"
_DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = portal-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  chroot = {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot = {chroot}
}}
{extra}"""


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot") or (DOVECOT if os.access(DOVECOT, os.X_OK) else None)
    return found


@dataclass
class DovecotServer:
    """A private Dovecot (see the module docstring) with one user, password in clear."""

    port: int
    process: subprocess.Popen | None = None
    user: str = USER
    password: str = PASSWORD
    root: Path | None = None
    # Set: what the server offers after login instead of its own list (Dovecot's
    # imap_capability), to meet a server without MOVE or UIDPLUS.
    capabilities: str = ""

    def start(self) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed")
        self.root = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
        self.root.chmod(0o755)  # the mail user (not root) reaches its Maildir
        mail = self.root / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            # Dovecot refuses to read mail as root; its own users run the logins.
            owner = pwd.getpwnam("mail")
            internal_user, login_user, chroot = "dovecot", "dovenull", "login"
            os.chown(mail, owner.pw_uid, owner.pw_gid)
            uid, gid = owner.pw_uid, owner.pw_gid
        else:
            me = pwd.getpwuid(os.geteuid())
            internal_user = login_user = me.pw_name
            chroot = ""  # chroot needs root
            uid, gid = me.pw_uid, me.pw_gid
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        config = self.root / "dovecot.conf"
        config.write_text(
            _DOVECOT_CONF.format(
                root=self.root,
                port=self.port,
                uid=uid,
                gid=gid,
                chroot=chroot,
                internal_user=internal_user,
                login_user=login_user,
                extra=f"imap_capability = {self.capabilities}\n" if self.capabilities else "",
            )  # fmt: skip
        )
        self.process = subprocess.Popen(  # noqa: S603  (the system's dovecot, our config)
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_listening(self.process, self.port, "dovecot", self.log_tail)

    def log_tail(self) -> str:
        log = self.root / "dovecot.log" if self.root else None
        text = log.read_text() if log and log.exists() else ""
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            text += self.process.stderr.read().decode()
        return text[-2000:]

    def stop(self) -> None:
        _stop(self.process)
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def kill_connections(self) -> None:
        """End every client's session from the server's side (as a restart or an idle
        timeout on the server would): `doveadm kick` the user."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run(  # noqa: S603  (the system's doveadm, our config)
            [doveadm, "-c", str(self.root / "dovecot.conf"), "kick", self.user],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def empty(self) -> None:
        empty(self)

    def client(self) -> MailBoxUnencrypted:
        return client(self)

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        append(self, *raws, folder=folder)

    def uids(self, folder: str = "INBOX") -> list[int]:
        return uids(self, folder)


@pytest.fixture(scope="session")
def _imap_process():
    server = ImapServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _dovecot_process():
    if dovecot_binary() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    server = DovecotServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _dovecot_without_move_process():
    if dovecot_binary() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    server = DovecotServer(port=free_port(), capabilities="IMAP4rev1 IDLE UIDPLUS")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dovecot_server(_dovecot_process):
    """The session's private Dovecot, emptied for each test."""
    _dovecot_process.empty()
    return _dovecot_process


@pytest.fixture
def imap_server(request):
    """The session's IMAP server (started once: pymap takes a second to start), emptied
    for each test: pymap, or Dovecot for a test parametrized with `on_both_servers`."""
    kind = getattr(request, "param", "pymap")
    server = request.getfixturevalue(_SERVERS[kind])
    server.empty()
    return server


_SERVERS = {
    "pymap": "_imap_process",
    "dovecot": "_dovecot_process",
    # Dovecot offering UIDPLUS but not MOVE (older servers, some gateways).
    "dovecot-without-move": "_dovecot_without_move_process",
}

# The same test against pymap and against Dovecot (the server most organisations run).
on_both_servers = pytest.mark.parametrize("imap_server", ["pymap", "dovecot"], indirect=True)


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
