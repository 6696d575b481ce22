"""Outbox rows keep the event's values and the worker writes the message before its first
attempt: the request pays nothing for rendering, and what is retried, listed and sent is
what was written once (docs/notifications.md, "Email: an outbox")."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from django.utils.safestring import mark_safe

from portal.notifications import delivery, rendering
from portal.notifications.kinds import Kind, all_kinds, register_kind
from portal.notifications.models import EmailDelivery, Notification
from portal.notifications.services import notify
from portal.testing.notices import deliver_pending

pytestmark = pytest.mark.django_db
Status = EmailDelivery.Status


def event(personas, **overrides):
    kwargs = {
        "recipients": [personas.requester],
        "kind": "test_event",
        "text": "Ticket TKT-000001 was updated",
        "link": "/tickets/TKT-000001",
        "context": {"text": "Ticket TKT-000001 was updated", "body": "Details & more"},
        "event_key": "ticket:1:update",
        "thread_key": "tkt-1",
        "thread_tag": "TKT-000001",
    }
    notify(**{**kwargs, **overrides})
    deliver_pending()  # what the worker does within seconds


def test_the_event_stores_its_values_and_the_worker_writes_the_message_once(personas, smtp_server):
    event(personas)
    row = EmailDelivery.objects.get()
    assert (row.subject, row.body_text, row.body_html) == ("", "", "")
    assert row.pending["context"]["body"] == "Details & more"
    assert row.pending["subject_tag"] == "TKT-000001"

    assert delivery.sweep() == {Status.SENT: 1}
    row.refresh_from_db()
    assert row.pending is None
    assert row.subject == "[TKT-000001] Ticket TKT-000001 was updated"
    assert row.body_text.startswith("Hello Requester,")  # the row's recipient greets
    [sent] = smtp_server.messages_to("requester@example.com")
    assert sent["Subject"] == row.subject
    plain = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.strip() == row.body_text.strip()
    assert "Details &amp; more" in sent.get_body(("html",)).get_content()


def test_a_retry_sends_what_the_first_attempt_wrote(personas, smtp_server):
    event(personas)
    smtp_server.stop()  # connection refused: a temporary failure
    assert delivery.sweep() == {Status.QUEUED: 1}
    row = EmailDelivery.objects.get()
    written = (row.subject, row.body_text, row.body_html)
    assert row.pending is None and row.subject  # written before the attempt, kept after it
    # The recipient renames themselves: the message was written already, it is not redone.
    personas.requester.full_name = "Renamed Person"
    personas.requester.save()
    smtp_server.start()
    later = timezone.now() + dt.timedelta(hours=1)
    assert delivery.sweep(now=later) == {Status.SENT: 1}
    row.refresh_from_db()
    assert (row.subject, row.body_text, row.body_html) == written
    [sent] = smtp_server.messages_to("requester@example.com")
    assert "Renamed" not in sent.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"due": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}, "'due'.*datetime"),
        ({"counts": {1: "one"}}, "key that is not text"),
        ({"pair": (1, 2)}, "'pair'.*tuple"),
        ({"html": mark_safe("<b>x</b>")}, "'html'.*SafeString"),
        ({"ratio": float("nan")}, "'ratio'.*float"),
    ],
)
def test_a_value_json_cannot_keep_is_refused_in_the_events_request(personas, value, error):
    with pytest.raises(TypeError, match=error):
        event(personas, context={"text": "x", **value})


@pytest.fixture
def broken_kind(kind_registry):
    """A kind whose template does not exist, registered for this test only (conftest)."""
    register_kind(
        Kind(name="broken", label="Broken", email_template="no_such", sample_context=dict)
    )


def test_a_message_that_cannot_be_written_fails_at_once_and_admins_are_told(
    personas, smtp_server, broken_kind
):
    event(personas, kind="broken", event_key="broken:1")
    assert delivery.sweep() == {Status.FAILED: 1}
    deliver_pending()
    row = EmailDelivery.objects.get(kind="broken")
    assert row.attempts == 1 and row.last_error.startswith("Could not write the message:")
    assert smtp_server.messages_to("requester@example.com") == []
    assert Notification.objects.filter(recipient=personas.admin, kind="mail_failed").exists()


def test_the_delivery_log_says_a_queued_message_is_written_when_sent(client_for, personas):
    event(personas)
    page = client_for(personas.admin).get("/notifications/deliveries").content.decode()
    assert "written when sent" in page and "requester@example.com" in page


@pytest.mark.parametrize("kind", all_kinds(), ids=lambda kind: kind.name)
def test_every_kinds_context_is_plain_json_and_renders_the_same_after_storing(kind, personas):
    """What the outbox keeps is what the template sees: a kind whose sample (the shape its
    events send) holds a date or a tuple would render differently, or not at all."""
    context = {**kind.sample_context(), "link_url": "https://x/t", "app_url": "https://x"}
    stored = json.loads(json.dumps(rendering.pending(context)))
    row = EmailDelivery(recipient=personas.agent, kind=kind.name, pending=stored)
    direct = rendering.render_email(kind.email_template, {**context, "recipient": personas.agent})
    assert rendering.render(row) == direct


def test_a_message_nobody_wrote_is_not_sent_blank(personas, smtp_server):
    """A row with neither a message nor the values to write one (left by a worker from
    before the outbox kept contexts, or a migration undone) fails instead of mailing a
    blank message."""
    event(personas)
    EmailDelivery.objects.update(pending=None)
    assert delivery.sweep() == {Status.FAILED: 1}
    assert EmailDelivery.objects.get().last_error == "Nothing to send: the message is empty."
    assert smtp_server.received == []


def test_a_persons_export_keeps_a_queued_message_that_cannot_be_written(
    client_for, personas, broken_kind
):
    import io
    import zipfile

    event(personas, kind="broken", event_key="broken:2")
    response = client_for(personas.admin).get(f"/settings/users/{personas.requester.pk}/export")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [mail] = json.loads(archive.read("email_deliveries.json"))
    assert mail["kind"] == "broken" and "Details & more" in mail["body_text"]
