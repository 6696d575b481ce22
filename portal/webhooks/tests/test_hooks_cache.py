"""The active hooks are cached for every ticket change (services.hooks_for); each way a
hook stops wanting an event must make the next change read them afresh. Every test warms
the cache with a ticket change first, so a missing invalidation shows as a delivery."""

import json

import pytest

from portal.tickets import services as tickets
from portal.webhooks import services
from portal.webhooks.models import Event, WebhookDelivery

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.com/in"


def comments_queued() -> list[tuple[int, str]]:
    """(hook, comment body) of every comment event queued, oldest first."""
    rows = WebhookDelivery.objects.filter(event=Event.TICKET_COMMENTED).order_by("created_at")
    return [(row.webhook_id, json.loads(row.body)["data"]["comment"]["body"]) for row in rows]


def test_a_hook_switched_off_by_repeated_failures_hears_no_further_change(
    make_hook, raise_ticket, personas
):
    hook = make_hook(URL, events=[Event.TICKET_CREATED, Event.TICKET_COMMENTED])
    ticket = raise_ticket()  # reads the active hooks into the cache
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 1
    switched = [
        services.webhook_record_failure(hook_id=hook.pk, limit=3, reason="refused")
        for _ in range(3)
    ]
    assert switched == [False, False, True]
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Still broken?")
    assert comments_queued() == []


def test_a_hook_no_longer_marked_internal_gets_no_internal_note(make_hook, raise_ticket, personas):
    hook = make_hook(URL, events=[Event.TICKET_COMMENTED], include_internal=True)
    ticket = raise_ticket()
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Warm", internal=True)
    assert comments_queued() == [(hook.pk, "Warm")]
    services.webhook_update(
        actor=personas.admin, hook=hook, name="Ops", url=URL, events=hook.events,
        fmt=hook.format, include_internal=False,
    )  # fmt: skip
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Root cause", internal=True)
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Fixed for you")
    assert comments_queued() == [(hook.pk, "Warm"), (hook.pk, "Fixed for you")]


def test_a_deleted_hook_hears_no_further_change(make_hook, raise_ticket, personas):
    hook = make_hook(URL, events=[Event.TICKET_CREATED, Event.TICKET_COMMENTED])
    ticket = raise_ticket()
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 1
    services.webhook_delete(actor=personas.admin, hook=hook)
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Still broken?")
    assert not WebhookDelivery.objects.exists()
