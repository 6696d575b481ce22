"""What a failed name lookup means for a delivery: a name that does not exist fails for
good; a resolver that fails for now (SERVFAIL, EAI_AGAIN, a timeout) is retried with the
usual backoff. And neither a lookup nor a request ever happens inside a transaction.

The name that does not exist is a real lookup of a `.invalid` name (RFC 6761: resolvers
answer NXDOMAIN for it). The failing resolver stands in at the single seam the delivery
code offers for it (`resolver=`, the function `guard.resolve` calls): there is no DNS
server on this machine to make fail.
"""

import datetime as dt
import socket

import pytest
from django.db import transaction
from django.utils import timezone
from werkzeug import Response

from portal.webhooks import delivery, guard
from portal.webhooks.models import AllowedHost, Event, WebhookDelivery

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
HOST = "hooks.example.test"


@pytest.fixture
def nxdomain_answered():
    """Skip where this machine's resolver cannot say that a `.invalid` name does not exist
    (no resolver at all answers EAI_AGAIN, which is the other case)."""
    try:
        socket.getaddrinfo("portal-webhook-check.invalid", 443)
    except socket.gaierror as exc:
        if exc.errno in guard.NO_SUCH_NAME:
            return
        pytest.skip(f"the system resolver answers {exc} for a .invalid name")
    pytest.skip("the system resolver answers a .invalid name")


def resolver_failing(times: int, errno: int, port: int):
    """Fails `times` lookups with `errno`, then answers 127.0.0.1 (where the receiver is)."""
    calls = []

    def resolve(host, port_, type=0):  # noqa: A002  (getaddrinfo's keyword)
        calls.append(host)
        if len(calls) <= times:
            raise socket.gaierror(errno, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    resolve.calls = calls
    return resolve


def test_a_name_that_does_not_exist_fails_for_good_at_once(
    nxdomain_answered, make_hook, raise_ticket
):
    with pytest.raises(guard.Refused, match="does not exist in DNS"):
        guard.resolve("https://no-such-receiver.invalid/hook", allowed=set())
    make_hook("https://no-such-receiver.invalid/hook", events=[Event.TICKET_CREATED])
    raise_ticket()
    assert delivery.sweep() == {Status.FAILED: 1}
    row = WebhookDelivery.objects.get()
    assert row.attempts == 1 and "does not exist in DNS" in row.last_error


@pytest.mark.parametrize(
    "errno", [socket.EAI_AGAIN, socket.EAI_FAIL], ids=["EAI_AGAIN", "EAI_FAIL"]
)
def test_a_resolver_failing_for_now_is_retried_with_backoff_then_delivered_once(
    errno, receiver, make_hook, raise_ticket
):
    AllowedHost.objects.create(host=HOST, note="on the premises")
    receiver.expect_request("/hook").respond_with_handler(lambda request: Response("ok"))
    make_hook(f"http://{HOST}:{receiver.port}/hook", events=[Event.TICKET_CREATED])
    raise_ticket()
    resolver = resolver_failing(2, errno, receiver.port)
    now = timezone.now()

    assert delivery.sweep(now=now, resolver=resolver) == {Status.QUEUED: 1}
    row = WebhookDelivery.objects.get()
    assert row.attempts == 1 and "failed for now" in row.last_error
    assert row.next_attempt_at == now + delivery.backoff(1)  # the usual backoff
    assert delivery.sweep(now=now + dt.timedelta(seconds=10), resolver=resolver) == {}
    assert delivery.sweep(now=now + dt.timedelta(minutes=1, seconds=1), resolver=resolver) == {
        Status.QUEUED: 1
    }
    assert delivery.sweep(now=now + dt.timedelta(hours=3), resolver=resolver) == {Status.SENT: 1}
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 3
    assert resolver.calls == [HOST] * 3
    [(request, _answer)] = receiver.log  # delivered once, to the checked address
    assert request.headers["Host"] == f"{HOST}:{receiver.port}"


def test_no_lookup_or_request_happens_inside_a_transaction(make_hook, raise_ticket):
    make_hook("https://hooks.example.com/hook", events=[Event.TICKET_CREATED])
    raise_ticket()
    resolver = resolver_failing(0, socket.EAI_AGAIN, 443)
    with pytest.raises(RuntimeError, match="inside a database transaction"):
        with transaction.atomic():
            delivery.sweep(resolver=resolver)
    assert resolver.calls == []  # refused before asking anyone
    row = WebhookDelivery.objects.get()  # and the claim went with the transaction
    assert row.status == Status.QUEUED and row.attempts == 0
    target = guard.Target("https", "hooks.example.com", 443, "/hook", "93.184.215.14")
    with pytest.raises(RuntimeError, match="inside a database transaction"):
        with transaction.atomic():
            guard.post(target, body=b"{}", headers={})
