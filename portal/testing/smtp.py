"""A real SMTP server on loopback (aiosmtpd) for mail tests: no mocks of the protocol.

Besides refusing recipients and answering slowly, it can hang the two ways real servers
do (`hang`): "greeting" accepts connections and never says hello; "reply" stores each
message and then never gives the final reply (the client times out, or dies, not knowing
the message was delivered). Messages stored while hanging are listed in `held` too.
"""

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)
    # Answer RCPT TO for these addresses with a permanent 550.
    refuse: set[str] = field(default_factory=set)
    # Seconds to think before accepting a message (a slow server, to kill a worker mid-send).
    delay: float = 0.0
    # None, "greeting" or "reply" (see the module docstring). Set it after start().
    hang: str | None = None
    held: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = _Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages_to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [r.message for r in self.received if address in r.rcpt_tos]


class _Controller(Controller):
    def __init__(self, server: SmtpServer, **kwargs):
        self.portal_server = server  # (Controller.server is the asyncio server)
        super().__init__(_Handler(server), **kwargs)

    def factory(self):
        return _HangingSMTP(self.portal_server, self.handler, **self.SMTP_kwargs)


class _HangingSMTP(SMTP):
    def __init__(self, server: SmtpServer, *args, **kwargs):
        self.portal_server = server
        super().__init__(*args, **kwargs)

    async def _handle_client(self):
        while self.portal_server.hang == "greeting" and not _gone(self):
            await asyncio.sleep(0.05)  # connected, and silent
        await super()._handle_client()


def _gone(server) -> bool:
    return server.transport is None or server.transport.is_closing()


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
            if server.transport is None or server.transport.is_closing():
                # The client died before we said "250": like a real server, deliver nothing.
                return "451 Connection lost before the message was accepted"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), message)
        hanging = self.server.hang == "reply"
        with self.server.lock:
            self.server.received.append(received)
            if hanging:
                self.server.held.append(received)
        while hanging and self.server.hang == "reply" and not _gone(server):
            await asyncio.sleep(0.05)  # stored, and the client is never told
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server, with MAILERS pointing at it (no TLS, short timeout)."""
    server = SmtpServer(port=free_port())
    server.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
        }
    }
    yield server
    server.stop()
