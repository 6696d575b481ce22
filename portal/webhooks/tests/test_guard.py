"""The SSRF guard refuses by address resolution; nothing here sends a request.

The resolver is the real one for names that resolve without a network (localhost and
address literals) and a stand-in returning fixed answers for the DNS cases."""

import socket

import pytest

from portal.webhooks import guard
from portal.webhooks.guard import Refused


def answers(*sequence):
    """A resolver whose n-th call answers the n-th list of addresses (DNS that changes)."""
    calls = []

    def resolve(host, port, type=0):  # noqa: A002  (getaddrinfo's keyword)
        addresses = sequence[min(len(calls), len(sequence) - 1)]
        calls.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  (the address under test)
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback (inside ::ffff:127.0.0.1)"),
        ("::ffff:10.0.0.1", "private (inside ::ffff:10.0.0.1)"),
        ("::ffff:169.254.169.254", "cloud metadata (inside ::ffff:169.254.169.254)"),
        ("64:ff9b::10.0.0.1", "private (inside 64:ff9b::a00:1)"),  # NAT64
        ("2002:a00:1::1", "private (inside 2002:a00:1::1)"),  # 6to4
    ],
)
def test_non_public_addresses_are_refused(address, reason):
    assert guard.refusal(address) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address):
    assert guard.refusal(address) is None


def test_allow_listed_host_may_be_private_but_never_the_metadata_service():
    assert guard.refusal("10.0.0.5", allow_private=True) is None
    assert guard.refusal("127.0.0.1", allow_private=True) is None
    assert guard.refusal("169.254.169.254", allow_private=True) == "cloud metadata"
    assert guard.refusal("::ffff:169.254.169.254", allow_private=True).startswith("cloud metadata")


def test_localhost_is_refused_by_what_it_resolves_to():
    with pytest.raises(Refused, match=r"localhost resolves to .*, a loopback address"):
        guard.resolve("http://localhost:9/hook", allowed=set())


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://[::1]:8080/", "http://[::ffff:10.0.0.1]/", "http://2130706433/"],
)
def test_address_literals_are_refused(url):
    with pytest.raises(Refused):
        guard.resolve(url, allowed=set())


def test_a_name_with_one_private_answer_among_public_ones_is_refused():
    resolver = answers(["93.184.215.14", "10.0.0.7"])
    with pytest.raises(Refused, match="10.0.0.7, a private address"):
        guard.resolve("https://hooks.example.com/x", allowed=set(), resolver=resolver)


def test_the_connection_goes_to_the_address_that_was_checked():
    # DNS rebinding: the first answer is public, a second lookup would say loopback.
    resolver = answers(["93.184.215.14"], ["127.0.0.1"])
    target = guard.resolve(
        "https://hooks.example.com:8443/in?x=1", allowed=set(), resolver=resolver
    )
    assert resolver.calls == ["hooks.example.com"]  # resolved once, then pinned
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.215.14",
        "hooks.example.com",
        8443,
        "/in?x=1",
    )
    connection = guard._PinnedHTTPSConnection(target, timeout=1)
    assert (connection.address, connection.host) == ("93.184.215.14", "hooks.example.com")


def test_allow_listed_host_resolving_to_private_address_is_allowed():
    resolver = answers(["10.20.30.40"])
    target = guard.resolve(
        "http://ci.corp.example/hook", allowed={"ci.corp.example"}, resolver=resolver
    )
    assert target.address == "10.20.30.40"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "Not a valid URL"),
    ],
)
def test_urls_that_cannot_be_called_are_refused_before_resolution(url, message):
    resolver = answers(["93.184.215.14"])
    with pytest.raises(Refused, match=message):
        guard.resolve(url, allowed=set(), resolver=resolver)
    assert resolver.calls == []


def test_a_name_that_does_not_resolve_is_refused():
    def resolver(host, port, type=0):  # noqa: A002
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(Refused, match="does not exist in DNS"):
        guard.resolve("https://nowhere.invalid/", allowed=set(), resolver=resolver)
