"""Delivery to a real HTTP receiver on 127.0.0.1 (allow-listed, as an on-premises host):
signatures, retries through an outage, hangs, redirects, auto-disable, retry button."""

import datetime as dt
import json
import threading

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier
from werkzeug import Response

from portal.notifications.models import Notification
from portal.testing.notices import deliver_pending
from portal.webhooks import delivery, services
from portal.webhooks.models import Event, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
LATER = dt.timedelta(hours=3)  # past any backoff of the first attempts


def answers(*statuses, body="ok"):
    """A handler answering the given statuses in turn (the last one from then on)."""
    calls = []

    def handle(request):
        status = statuses[min(len(calls), len(statuses) - 1)]
        calls.append(request.headers.get("webhook-id"))
        return Response(body, status=status, headers={"Location": "http://127.0.0.1:9/x"})

    return handle


def received(receiver) -> list[dict]:
    """What reached the receiver: the three webhook headers (as the verifier takes them),
    the id again under "id", and the raw body."""
    names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    return [
        {
            **{name: request.headers[name] for name in names},
            "id": request.headers["webhook-id"],
            "raw": request.get_data(),
        }
        for request, _ in receiver.log
    ]


def _headers(got: dict) -> dict:
    return {name: value for name, value in got.items() if name.startswith("webhook-")}


@pytest.fixture
def hook(receiver, make_hook, loopback_allowed):
    return make_hook(receiver.url_for("/hook"), events=[Event.TICKET_CREATED])


def sweep_at(offset=dt.timedelta(0)):
    deliver_pending()
    return delivery.sweep(now=timezone.now() + offset)


def test_delivery_is_signed_and_verifies_with_the_reference_package(receiver, hook, raise_ticket):
    receiver.expect_request("/hook", method="POST").respond_with_data("thanks", status=200)
    ticket = raise_ticket()
    assert receiver.log == []  # nothing is sent on the request's path
    assert sweep_at() == {Status.SENT: 1}
    [got] = received(receiver)
    payload = Verifier(hook.secret).verify(got["raw"], _headers(got))
    assert payload["type"] == "ticket.created"
    assert payload["data"]["ticket"]["number"] == ticket.number
    row = WebhookDelivery.objects.get()
    assert (row.status, row.response_status, row.response_excerpt) == (Status.SENT, 200, "thanks")
    assert got["id"] == row.message_id
    [(request, _)] = receiver.log
    assert request.headers["Content-Type"] == "application/json"


def test_loopback_receiver_not_allow_listed_is_refused_without_a_request(
    receiver, make_hook, raise_ticket
):
    make_hook(receiver.url_for("/hook"))
    raise_ticket()
    assert sweep_at() == {Status.FAILED: 1}
    row = WebhookDelivery.objects.get()
    assert "127.0.0.1, a loopback address" in row.last_error
    assert receiver.log == []


def test_an_outage_is_retried_and_each_event_arrives_once_under_one_id(
    receiver, hook, raise_ticket
):
    # The receiver is down for four requests (two attempts of each event), then back.
    receiver.expect_request("/hook").respond_with_handler(answers(500, 500, 503, 503, 200))
    raise_ticket("first")
    raise_ticket("second")
    assert sweep_at() == {Status.QUEUED: 2}
    assert sweep_at(dt.timedelta(seconds=10)) == {}  # not due yet: the backoff holds them
    assert sweep_at(dt.timedelta(minutes=1, seconds=1)) == {Status.QUEUED: 2}
    assert sweep_at(LATER) == {Status.SENT: 2}
    assert sweep_at(2 * LATER) == {}  # delivered: never again
    ids = [got["id"] for got in received(receiver)]
    rows = {row.message_id: row for row in WebhookDelivery.objects.all()}
    assert len(ids) == 6 and set(ids) == set(rows)
    assert sorted(ids.count(message_id) for message_id in rows) == [3, 3]  # one id per event
    assert {row.status for row in rows.values()} == {Status.SENT}
    assert sorted(row.attempts for row in rows.values()) == [3, 3]
    for got in received(receiver):  # every attempt signed afresh, every one verifies
        Verifier(hook.secret).verify(got["raw"], _headers(got))


def test_a_hanging_receiver_costs_one_timeout_then_its_events_wait(
    receiver, hook, raise_ticket, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    release = threading.Event()

    def hang(request):
        release.wait(10)
        return Response("late", status=200)

    receiver.expect_request("/hook").respond_with_handler(hang)
    raise_ticket("first")
    raise_ticket("second")
    try:
        counts = sweep_at()
    finally:
        release.set()
    # The first timed out; the circuit kept the second from costing another timeout.
    assert counts == {Status.QUEUED: 1, "deferred": 1}
    timed_out = WebhookDelivery.objects.get(attempts=1)
    assert timed_out.status == Status.QUEUED and timed_out.last_error
    receiver.clear()
    receiver.expect_request("/hook").respond_with_data("ok")
    assert sweep_at(LATER) == {Status.SENT: 2}
    assert timed_out.message_id in [got["id"] for got in received(receiver)]


def test_redirects_are_not_followed(receiver, hook, raise_ticket):
    receiver.expect_request("/hook").respond_with_handler(answers(302))
    raise_ticket()
    assert sweep_at() == {Status.FAILED: 1}
    row = WebhookDelivery.objects.get()
    assert row.response_status == 302 and "redirects are not followed" in row.last_error
    assert [request.path for request, _ in receiver.log] == ["/hook"]


def test_only_an_excerpt_of_the_answer_is_kept(receiver, hook, raise_ticket):
    receiver.expect_request("/hook").respond_with_data("x" * 100_000, status=200)
    raise_ticket()
    sweep_at()
    assert WebhookDelivery.objects.get().response_excerpt == "x" * 500


def test_repeated_permanent_failures_switch_the_hook_off_and_tell_admins_once(
    receiver, hook, raise_ticket, settings, personas
):
    settings.WEBHOOK_DISABLE_AFTER = 2
    receiver.expect_request("/hook").respond_with_handler(answers(410, body="gone"))
    raise_ticket("one")
    assert sweep_at() == {Status.FAILED: 1}
    assert Webhook.objects.get().is_active
    raise_ticket("two")
    raise_ticket("three")
    assert sweep_at() == {Status.FAILED: 1, "skipped": 1}  # off after the second
    hook.refresh_from_db()
    assert not hook.is_active and "HTTP 410" in hook.disabled_reason
    deliver_pending()
    told = Notification.objects.filter(kind="webhook_disabled")
    assert [n.recipient for n in told] == [personas.admin]
    assert told.get().link == f"/webhooks/{hook.pk}"
    raise_ticket("four")  # an inactive hook is not queued for
    assert WebhookDelivery.objects.count() == 3
    assert len(receiver.log) == 2


def test_switching_the_hook_on_again_delivers_what_waited(
    receiver, hook, raise_ticket, settings, personas
):
    settings.WEBHOOK_DISABLE_AFTER = 1
    receiver.expect_request("/hook").respond_with_handler(answers(400, 200))
    raise_ticket("one")
    raise_ticket("two")
    sweep_at()
    hook.refresh_from_db()
    assert not hook.is_active
    services.webhook_update(
        actor=personas.admin, hook=hook, name=hook.name, url=hook.url, events=hook.events,
        fmt=hook.format, is_active=True,
    )  # fmt: skip
    assert sweep_at() == {Status.SENT: 1}
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0


def test_the_retry_button_sends_a_failed_delivery_again_under_its_id(
    receiver, hook, raise_ticket, personas
):
    receiver.expect_request("/hook").respond_with_handler(answers(404, 200))
    raise_ticket()
    sweep_at()
    row = WebhookDelivery.objects.get()
    assert row.status == Status.FAILED and row.response_status == 404
    assert services.delivery_retry(delivery=row, actor=personas.admin)
    assert sweep_at() == {Status.SENT: 1}
    assert services.delivery_retry(delivery=row, actor=personas.admin) is False  # sent: never again
    assert [got["id"] for got in received(receiver)] == [row.message_id] * 2


def test_a_row_a_dead_worker_left_sending_is_sent_again_with_the_same_id(
    receiver, hook, raise_ticket, settings
):
    receiver.expect_request("/hook").respond_with_data("ok")
    raise_ticket()
    row = WebhookDelivery.objects.get()
    # A worker claimed it (and perhaps posted it) and died before recording the answer.
    long_ago = timezone.now() - dt.timedelta(seconds=settings.WEBHOOK_STUCK_AFTER_SECONDS + 1)
    WebhookDelivery.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claimed_at=long_ago, attempts=1
    )
    assert sweep_at() == {Status.SENT: 1}
    assert [got["id"] for got in received(receiver)] == [row.message_id]
    body = json.loads(received(receiver)[0]["raw"])
    assert body["type"] == "ticket.created"
