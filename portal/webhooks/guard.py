"""Sending a request to an address we checked: the SSRF guard.

A webhook's URL is typed by an admin, but the portal's worker sits inside the network:
a URL that names the database server, the cloud's metadata service or a router's admin
page would turn the portal into a way in. So before each attempt the host is resolved
once, *every* address it resolves to is checked, and the connection goes to the checked
address (the host name is still sent as `Host` and used for TLS), so a DNS answer that
changes between the check and the connection (rebinding) changes nothing.

Refused: loopback, link-local, private (RFC 1918, unique-local IPv6), shared (CGNAT),
multicast, reserved and unspecified addresses, and anything else that is not globally
routable; IPv4 addresses inside IPv6 (IPv4-mapped, NAT64, 6to4) are checked as the IPv4
address they carry. A host an admin allow-lists (`AllowedHost`, or the
WEBHOOK_ALLOWED_HOSTS setting) may resolve to a private address, for receivers on the
premises; cloud metadata addresses stay refused even then.

Redirects are never followed (http.client does not follow them; a 3xx is a failure), name
resolution is bounded by WEBHOOK_DNS_TIMEOUT_SECONDS (a name that does not exist is
refused for good; a resolver that fails or is slow is a temporary failure), each socket
operation and the whole exchange by WEBHOOK_TIMEOUT_SECONDS, and at most
RESPONSE_EXCERPT_BYTES of the answer are read. HTTPS checks the certificate against the
host name with the system's trusted CAs plus WEBHOOK_CA_FILE (a private CA of receivers on
the premises). Neither the lookup nor the request runs inside a database transaction (both
refuse to): a hanging resolver or receiver would hold the transaction's locks for its
whole timeout.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from portal.lib import db

RESPONSE_EXCERPT_BYTES = 500
NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack …
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}


def refuse_inside_transaction(action: str) -> None:
    """No lookup or request while a database transaction is open (portal.lib.db)."""
    db.refuse_inside_transaction(
        action, "call out first, then record the outcome in a short transaction (docs/webhooks.md)."
    )


class Refused(Exception):
    """The URL may not be called; the message says why (shown in the delivery log)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) or Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"Not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("Only http and https URLs can be called.")
    if parts.username or parts.password:
        raise Refused("Put credentials in the secret, not in the URL.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused("The URL names no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why `address` may not be called (a few words), or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and (inner := carried_ipv4(ip)) is not None:
        # Judged as the IPv4 address it carries (the prefixes themselves count as reserved).
        reason = refusal(str(inner), allow_private=allow_private)
        return f"{reason} (inside {ip})" if reason else None
    if ip in METADATA:
        return "cloud metadata"
    if allow_private:
        return None
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return reason
    if not ip.is_global:
        return "non-public"
    return None


def allowed_hosts() -> set[str]:
    from portal.webhooks.models import AllowedHost

    hosts = {h.strip().rstrip(".").lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}
    return hosts | set(AllowedHost.objects.values_list("host", flat=True))


class ResolutionFailed(OSError):
    """The name could not be resolved *now* (the resolver failed, SERVFAIL, EAI_AGAIN): a
    temporary failure, retried later with the usual backoff."""


class ResolutionTimedOut(ResolutionFailed, TimeoutError):
    """The resolver did not answer in time: a temporary failure, retried later."""


# getaddrinfo's answers that mean "this name has no address" (NXDOMAIN, or a name with no
# A/AAAA record): the URL is wrong, and asking again will not change that. Every other
# failure (EAI_AGAIN: a timeout or SERVFAIL; EAI_FAIL; EAI_SYSTEM; EAI_MEMORY …) is the
# resolver's trouble, not the URL's.
NO_SUCH_NAME = frozenset(
    getattr(socket, name)
    for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
    if hasattr(socket, name)
)


def _bounded(resolver, host: str, port: int, timeout: float) -> list:
    """`resolver(host, port)` given at most `timeout` seconds.

    getaddrinfo cannot be interrupted and its own timeouts (resolv.conf: 5 s × attempts ×
    name servers × search domains) can add up to minutes, holding the webhooks queue for
    every hook. So it runs in a daemon thread and the worker stops waiting at the bound;
    the thread ends when the system resolver gives up on its own.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["infos"] = resolver(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # noqa: BLE001 (handed to the waiting thread)
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ResolutionTimedOut(f"resolving {host} took longer than {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]  # an exception, stored above
    return outcome["infos"]  # type: ignore[return-value]  # getaddrinfo's list


def resolve(url: str, *, allowed: set[str], resolver=None) -> Target:
    """Check `url` and choose the address to connect to. Raises Refused (for good) if it may
    not be called or the name does not exist; ResolutionFailed (an OSError: temporary) if
    the resolver fails or does not answer in time. Never inside a transaction."""
    refuse_inside_transaction("resolve a webhook's host")
    scheme, host, port, path = parse(url)
    # Looked up at call time (not bound as a default), so a test can stand in for DNS.
    resolver = resolver or socket.getaddrinfo
    try:
        infos = _bounded(resolver, host, port, settings.WEBHOOK_DNS_TIMEOUT_SECONDS)
    except socket.gaierror as exc:
        if exc.errno in NO_SUCH_NAME:
            raise Refused(f"{host} does not exist in DNS: {exc.strerror or exc}") from None
        raise ResolutionFailed(f"resolving {host} failed for now: {exc.strerror or exc}") from None
    except UnicodeError as exc:
        raise Refused(f"{host} is not a valid host name: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(f"{host} resolves to no address.")
    for address in addresses:
        reason = refusal(address, allow_private=host in allowed)
        if reason is not None:
            hint = "" if reason == "cloud metadata" else " (an admin can allow-list the host)"
            raise Refused(f"{host} resolves to {address}, a {reason} address{hint}.")
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name resolves to by now."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name."""

    def __init__(self, target: Target, timeout: float):
        self.tls = ssl.create_default_context()
        if settings.WEBHOOK_CA_FILE:
            self.tls.load_verify_locations(cafile=settings.WEBHOOK_CA_FILE)
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, *, body: bytes, headers: dict[str, str]) -> Response:
    """POST `body` to `target`; the answer's status and the first bytes of its body.

    Raises OSError / http.client.HTTPException (temporary failures) when the exchange fails
    or does not finish within WEBHOOK_TIMEOUT_SECONDS in all."""
    refuse_inside_transaction("call a webhook")
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target, timeout)
    # A receiver that answers a byte at a time never trips the per-read timeout; this
    # ends the whole exchange at the deadline by shutting the socket under the reader.
    deadline = threading.Timer(timeout, _abort, args=(conn,))
    deadline.daemon = True
    deadline.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        answer = conn.getresponse()
        excerpt = answer.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Response(answer.status, excerpt)
    finally:
        deadline.cancel()
        conn.close()


def _abort(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
