"""Email in by an inbound webhook (django-anymail): real signed posts from Mailgun and
Postmark, sent to the endpoints with the test client, go through the same pipeline as mail
read over IMAP."""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.attachments.tests.files import png
from portal.mailin import tasks
from portal.mailin.models import InboundMessage, Mailbox
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.testing.database import unreachable_database
from portal.tickets.models import Attachment, Comment, Ticket

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-mailgun-test-signing"
BASIC = "postmark:s3cret-hook"
MAILGUN = "/mail/inbound/mailgun/"
POSTMARK = "/mail/inbound/postmark/"


@pytest.fixture
def hooks(settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    return settings


@pytest.fixture
def hook_box(org, files_storage):
    return Mailbox.objects.create(
        name="Support by webhook", address=fixtures.SUPPORT,
        transport=Mailbox.Transport.WEBHOOK, group=org.group_x, category=org.hardware,
        subcategory=org.laptop,
    )  # fmt: skip


def signed(fields: dict, *, key: str = SIGNING_KEY, token: str | None = None) -> dict:
    """A Mailgun post as its route's forward() sends it: timestamp, token, HMAC signature."""
    timestamp = str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {"timestamp": timestamp, "token": token, "signature": signature.hexdigest(), **fields}


def parsed_fields(sender: str, subject: str, text: str, **extra) -> dict:
    """Mailgun's fully parsed form: headers as JSON, text, files as attachment-N."""
    headers = [
        ["From", sender], ["To", fixtures.SUPPORT], ["Subject", subject],
        ["Date", fixtures.DATE], ["Message-ID", "<first-mail@client.example>"],
    ]  # fmt: skip
    return {
        "recipient": fixtures.SUPPORT, "sender": sender, "from": sender, "subject": subject,
        "body-plain": text, "message-headers": json.dumps(headers), **extra,
    }  # fmt: skip


def mime_fields(raw: bytes) -> dict:
    return {"recipient": fixtures.SUPPORT, "body-mime": raw.decode()}


def test_the_endpoints_are_off_until_configured(client, hook_box, settings):
    settings.ANYMAIL = {}
    assert (
        client.post(MAILGUN, signed(parsed_fields("requester@example.com", "A", "B"))).status_code
        == 404
    )
    assert client.post(POSTMARK, {}, content_type="application/json").status_code == 404
    assert not InboundMessage.objects.exists()


def test_a_signed_mailgun_post_raises_a_ticket_with_its_file_and_keeps_the_mail(
    personas, org, hooks, hook_box, client, files_storage
):
    photo = SimpleUploadedFile("photo.png", png(), "image/png")
    fields = parsed_fields(
        "requester@example.com", "Dock flickers", "The screen flickers on the dock.",
        **{"attachment-count": "1", "attachment-1": photo},
    )  # fmt: skip
    response = client.post(MAILGUN, signed(fields))
    assert response.status_code == 200 and response.json() == {"outcomes": ["ticket"]}
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.title) == (personas.requester, "Dock flickers")
    assert ticket.team == org.team_a  # routed like a ticket raised on the page
    [attachment] = Attachment.objects.all()
    assert (attachment.original_name, attachment.sha256) == (
        "photo.png", hashlib.sha256(png()).hexdigest(),
    )  # fmt: skip
    row = InboundMessage.objects.get()
    assert (row.uidvalidity, row.ticket) == (0, ticket)
    with files_storage.open(row.raw_key, "rb") as stored:
        kept = stored.read()
    assert row.raw_sha256 == hashlib.sha256(kept).hexdigest() and b"Dock flickers" in kept
    hook_box.refresh_from_db()
    assert hook_box.last_success_at is not None  # the health page's "last message taken"


def test_a_forged_signature_is_refused_and_nothing_is_written(personas, hooks, hook_box, client):
    fields = signed(parsed_fields("requester@example.com", "Forged", "Let me in."), key="wrong")
    response = client.post(MAILGUN, fields)
    assert response.status_code == 400 and "signature" in response.content.decode()
    unsigned = parsed_fields("requester@example.com", "Unsigned", "Let me in.")
    assert client.post(MAILGUN, unsigned).status_code == 400
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()


def test_the_same_post_twice_makes_one_ticket(personas, hooks, hook_box, client):
    post = signed(parsed_fields("requester@example.com", "Printer jam", "Tray 2 jams."))
    assert client.post(MAILGUN, post).json() == {"outcomes": ["ticket"]}
    # The provider's retry (same token): the ledger knows its position, nothing is written.
    assert client.post(MAILGUN, post).json() == {"outcomes": ["ticket"]}
    # The same mail posted again under a new token: its content hash makes it a duplicate.
    again = signed(parsed_fields("requester@example.com", "Printer jam", "Tray 2 jams."))
    assert client.post(MAILGUN, again).json() == {"outcomes": ["duplicate"]}
    assert Ticket.objects.count() == 1 and outcomes() == ["ticket", "duplicate"]


def test_a_reply_posted_as_raw_mime_becomes_a_comment(personas, hooks, hook_box, client):
    client.post(MAILGUN, signed(parsed_fields("requester@example.com", "VPN", "It drops.")))
    ticket = Ticket.objects.get()
    reply = fixtures.outlook_reply(
        "requester@example.com", "RE: VPN", in_reply_to="<first-mail@client.example>",
        references="<first-mail@client.example>",
    )  # fmt: skip
    response = client.post("/mail/inbound/mailgun/mime/", signed(mime_fields(reply)))
    assert response.json() == {"outcomes": ["comment"]}
    comment = Comment.objects.get(ticket=ticket)
    assert comment.author == personas.requester and not comment.is_internal


def test_automatic_mail_posted_is_never_answered_and_writes_nothing(
    personas, hooks, hook_box, client
):
    raw = fixtures.list_mail("announce@lists.example.com")
    assert client.post(MAILGUN, signed(mime_fields(raw))).json() == {"outcomes": ["auto_reply"]}
    assert not Ticket.objects.exists()


def test_an_oversized_or_invalid_post_is_a_clear_4xx_and_writes_nothing(
    personas, hooks, hook_box, client, settings
):
    settings.INBOUND_MAX_MESSAGE_BYTES = 2048
    big = signed(parsed_fields("requester@example.com", "Big", "x" * 4096))
    response = client.post(MAILGUN, big)
    assert response.status_code == 413 and "the limit is 2048" in response.content.decode()
    settings.INBOUND_MAX_MESSAGE_BYTES = 30 * 1024 * 1024
    # Signed, but not a message: no headers, no MIME.
    response = client.post(MAILGUN, signed({"recipient": fixtures.SUPPORT}))
    assert (
        response.status_code == 400 and "Not an inbound message post" in response.content.decode()
    )
    # Sent to an address no webhook mailbox serves.
    stray = parsed_fields("requester@example.com", "Hello", "Hi.", recipient="other@example.com")
    stray["message-headers"] = stray["message-headers"].replace(
        fixtures.SUPPORT, "other@example.com"
    )
    assert client.post(MAILGUN, signed(stray)).status_code == 406
    assert client.get(MAILGUN).status_code == 405
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()


def postmark_payload(raw_sender: str, subject: str, text: str) -> dict:
    return {
        "FromFull": {"Email": raw_sender, "Name": "Rita Requester"},
        "ToFull": [{"Email": fixtures.SUPPORT, "Name": ""}],
        "OriginalRecipient": fixtures.SUPPORT, "Subject": subject, "TextBody": text,
        "Date": fixtures.DATE, "MessageID": "6a5e0b6b-4b0e-4f0a-9d1c-3b1c2d4e5f60",
        "Headers": [{"Name": "Message-ID", "Value": "<pm-1@client.example>"}],
        "Attachments": [],
    }  # fmt: skip


def test_postmark_posts_are_checked_with_basic_auth(personas, hook_box, client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC}
    payload = json.dumps(postmark_payload("requester@example.com", "Mouse", "It lags."))
    wrong = "Basic " + base64.b64encode(b"postmark:guess").decode()
    refused = client.post(
        POSTMARK, payload, content_type="application/json", HTTP_AUTHORIZATION=wrong
    )
    assert refused.status_code == 400 and not InboundMessage.objects.exists()
    right = "Basic " + base64.b64encode(BASIC.encode()).decode()
    taken = client.post(
        POSTMARK, payload, content_type="application/json", HTTP_AUTHORIZATION=right
    )
    assert taken.status_code == 200 and taken.json() == {"outcomes": ["ticket"]}
    assert Ticket.objects.get().requester == personas.requester
    again = client.post(
        POSTMARK, payload, content_type="application/json", HTTP_AUTHORIZATION=right
    )
    assert again.json() == {"outcomes": ["ticket"]} and Ticket.objects.count() == 1
    bad = client.post(
        POSTMARK, "{not json", content_type="application/json", HTTP_AUTHORIZATION=right
    )
    assert bad.status_code == 400


def test_the_worker_does_not_poll_webhook_mailboxes(hook_box):
    assert tasks.poll_mailboxes.call() == {}
    hook_box.refresh_from_db()
    assert hook_box.last_polled_at is None and hook_box.failures_in_a_row == 0


def test_the_admin_form_needs_no_imap_settings_for_a_webhook_mailbox(personas, org, client_for):
    client = client_for(personas.admin)
    form = {
        "name": "Hook", "address": "hook@example.com", "transport": "webhook", "host": "",
        "port": 993, "security": "ssl", "auth": "password", "username": "", "password": "",
        "oauth_tenant": "", "oauth_client_id": "", "oauth_client_secret": "",
        "oauth_authority": "", "folder": "INBOX", "processed_folder": "Processed",
        "target": "classification", "group": org.group_x.pk, "category": org.hardware.pk,
        "subcategory": "", "unknown_senders": "reply", "allowed_domains": "", "is_active": "on",
    }  # fmt: skip
    refused = client.post("/admin/mailin/mailbox/add/", {**form, "transport": "imap"})
    assert refused.status_code == 200
    assert set(refused.context["adminform"].form.errors) == {"host", "username", "password"}
    assert not Mailbox.objects.exists()
    assert client.post("/admin/mailin/mailbox/add/", form).status_code == 302
    assert Mailbox.objects.get().transport == "webhook"
    html = client.get("/mailboxes").content.decode()
    assert 'data-transport="webhook">posted by the provider' in html


# --- Outages: nothing is written and the provider is told to post again -------------------


def test_a_post_while_the_storage_fails_is_a_503_with_retry_after_and_is_taken_later(
    personas, hooks, hook_box, client, settings, s3_server, s3_faults
):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_server.storage_config(endpoint_url=s3_faults.endpoint),
    }
    post = signed(parsed_fields("requester@example.com", "Printer jam", "Tray 2 jams."))
    s3_faults.answer(500)
    response = client.post(MAILGUN, post)
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "post it again later" in response.content.decode()
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()
    hook_box.refresh_from_db()
    assert "StorageUnavailable" in hook_box.last_error  # on the mailbox health page
    # The provider's retry of the same post, once the storage answers again.
    s3_faults.pass_through()
    assert client.post(MAILGUN, post).json() == {"outcomes": ["ticket"]}
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_post_while_the_database_is_down_is_a_503_with_retry_after_and_is_taken_later(
    personas, hooks, hook_box
):
    client = Client(raise_request_exception=False)  # as the provider: only the answer counts
    post = signed(parsed_fields("requester@example.com", "Printer jam", "Tray 2 jams."))
    with unreachable_database():
        response = client.post(MAILGUN, post)
    # The site-wide answer for a database that does not answer (core.views), as any request.
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()
    assert client.post(MAILGUN, post).json() == {"outcomes": ["ticket"]}
    assert Ticket.objects.count() == 1
