"""A fault stub for storage tests: an HTTP proxy on loopback in front of moto's S3 server.

Point the storage at `S3Faults.endpoint` instead of the server's and decide, at any time
during a test, what happens to the next requests:

    faults.pass_through()                       # forward to moto, relay its answer
    faults.answer(500)                          # an S3-style XML error, nothing forwarded
    faults.answer(501, methods={"PUT"})         # only for some methods
    faults.hang(after=1)                        # let 1 request through, then accept and
                                                # read every request and never answer
    faults.wait_for_hanging(1)                  # until a request is held (no sleeping)
    faults.release()                            # close the held connections unanswered

Requests go over real sockets; boto3 and django-storages are not touched. A held request
counts as hanging until the proxy releases it or its client gives up and closes the
connection; the proxy notices either at once.
"""

import http.client
import select
import threading
from collections.abc import Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longest a request is held if the test never releases it (the test has failed by then).
_HOLD_LIMIT_SECONDS = 120
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect"}
_ERROR_CODES = {500: "InternalError", 501: "NotImplemented", 503: "SlowDown"}


@dataclass(frozen=True)
class _Rule:
    action: str  # "pass" | "answer" | "hang"
    status: int = 0
    methods: frozenset[str] | None = None  # None: every method
    after: int = 0  # let this many matching requests through first


class S3Faults:
    """The proxy: `endpoint` for the storage, the methods above for the test."""

    def __init__(self, upstream: str):
        self.upstream = upstream  # "http://127.0.0.1:port" of moto's server
        self._rule = _Rule("pass")
        self._matched = 0
        self._lock = threading.Condition()
        self._released = threading.Event()
        self.hanging = 0
        # (method, path, what happened): "passed", "answered 500", "held".
        self.log: list[tuple[str, str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.faults = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- What happens next ----------------------------------------------------------------

    def _set(self, rule: _Rule) -> None:
        with self._lock:
            self._rule, self._matched = rule, 0

    def pass_through(self) -> None:
        self._set(_Rule("pass"))

    def answer(self, status: int, *, methods: Collection[str] | None = None, after: int = 0):
        """Answer `status` with an S3-style error body instead of forwarding."""
        self._set(_Rule("answer", status, _methods(methods), after))

    def hang(self, *, methods: Collection[str] | None = None, after: int = 0) -> None:
        """Read the request, then hold the connection without a byte of answer."""
        self._released.clear()
        self._set(_Rule("hang", 0, _methods(methods), after))

    def release(self) -> None:
        """Close every held connection unanswered (as a crashed server would)."""
        self._released.set()

    def wait_for_hanging(self, count: int = 1, timeout: float = 30) -> None:
        """Return once `count` requests are held; AssertionError after `timeout`."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.hanging >= count, timeout=timeout):
                raise AssertionError(f"{self.hanging} request(s) held, expected {count}")

    def requests(self, method: str | None = None) -> list[tuple[str, str, str]]:
        with self._lock:
            return [entry for entry in self.log if method in (None, entry[0])]

    # --- Used by the handler --------------------------------------------------------------

    def _decide(self, method: str, path: str) -> _Rule:
        with self._lock:
            rule = self._rule
            if rule.action == "pass" or (rule.methods is not None and method not in rule.methods):
                return _Rule("pass")
            self._matched += 1
            if self._matched <= rule.after:
                return _Rule("pass")
            return rule

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.log.append((method, path, what))

    def _held(self, delta: int) -> None:
        with self._lock:
            self.hanging += delta
            self._lock.notify_all()


def _methods(methods: Collection[str] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(m.upper() for m in methods)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        faults: S3Faults = self.server.faults
        body = self._body()
        rule = faults._decide(self.command, self.path)
        if rule.action == "hang":
            faults._record(self.command, self.path, "held")
            self._hold(faults)
            return
        if rule.action == "answer":
            faults._record(self.command, self.path, f"answered {rule.status}")
            self._answer(rule.status)
            return
        faults._record(self.command, self.path, "passed")
        self._forward(faults.upstream, body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def _hold(self, faults: S3Faults) -> None:
        """Hold until released, or until the client closes its end (it gave up)."""
        faults._held(+1)
        try:
            waited = 0.0
            while not faults._released.is_set() and waited < _HOLD_LIMIT_SECONDS:
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                waited += 0.05
                if readable and not self.connection.recv(1, 2):  # 2: MSG_PEEK
                    break  # the client closed the connection
        finally:
            faults._held(-1)
            self.close_connection = True

    def _answer(self, status: int) -> None:
        code = _ERROR_CODES.get(status, "InternalError")
        payload = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>Injected by the fault stub</Message></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _forward(self, upstream: str, body: bytes) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            if self.command == "HEAD":
                length = response.getheader("Content-Length") or "0"
            else:
                length = str(len(payload))
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            connection.close()
