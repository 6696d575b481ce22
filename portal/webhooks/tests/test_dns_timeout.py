"""Name resolution of a webhook target is bounded: a resolver that hangs costs one bounded
wait and a retry later, not the webhooks queue.

The stand-in replaces `socket.getaddrinfo` only: there is no DNS server on this machine to
make hang, and the guard is the only caller that matters here (it looks the function up at
call time). Nothing is sent anywhere: the name never resolves.
"""

import socket
import threading

import pytest

from portal.webhooks import delivery, guard
from portal.webhooks.models import Event, WebhookDelivery

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture
def hanging_dns(monkeypatch, settings):
    settings.WEBHOOK_DNS_TIMEOUT_SECONDS = 1
    release = threading.Event()
    asked = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        release.wait(30)  # a resolver that does not answer (until the test ends)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked
    release.set()


def test_a_hanging_resolver_is_given_up_on_at_the_bound(hanging_dns):
    with pytest.raises(guard.ResolutionTimedOut, match="longer than 1 s"):
        guard.resolve("https://hangs.example/hook", allowed=set())
    assert hanging_dns == ["hangs.example"]


def test_a_delivery_whose_name_does_not_resolve_in_time_is_retried_later(
    hanging_dns, make_hook, raise_ticket
):
    make_hook("https://hangs.example/hook", events=[Event.TICKET_CREATED])
    raise_ticket()
    assert delivery.sweep() == {Status.QUEUED: 1}
    row = WebhookDelivery.objects.get()
    assert row.attempts == 1
    assert "ResolutionTimedOut" in row.last_error and "hangs.example" in row.last_error
    assert row.next_attempt_at > row.created_at  # a backoff, then another try
