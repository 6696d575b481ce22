"""Our Standard Webhooks signatures, checked with the spec's reference implementation."""

import datetime as dt
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from portal.webhooks import signing
from portal.webhooks.models import new_secret


def test_signature_verifies_with_the_reference_package():
    secret = new_secret()
    body = json.dumps({"type": "ticket.created", "data": {"number": "TKT-000001"}}).encode()
    headers = signing.headers(
        secret=secret, message_id="msg_1", timestamp=int(time.time()), body=body
    )
    assert Verifier(secret).verify(body, headers) == json.loads(body)


def test_a_changed_body_or_another_secret_fails_verification():
    secret = new_secret()
    body = b'{"type": "ticket.created"}'
    headers = signing.headers(
        secret=secret, message_id="msg_1", timestamp=int(time.time()), body=body
    )
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(b'{"type": "ticket.assigned"}', headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(new_secret()).verify(body, headers)


def test_signature_is_the_one_the_reference_package_makes():
    secret = new_secret()
    body = '{"ticket": "TKT-000001 — café"}'.encode()
    moment = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    ours = signing.sign(
        secret=secret, message_id="msg_abc", timestamp=int(moment.timestamp()), body=body
    )
    assert ours == Verifier(secret).sign("msg_abc", moment, body)
