"""Outgoing mail about a ticket threads as one conversation and says it is automatic.

Read on a real SMTP server: every message carries a Message-ID signed over the ticket, the
event and the recipient, points at the ticket's signed root in In-Reply-To and References,
keeps the `[TKT-000123]` tag in front of its subject, and marks itself as sent by a program
(RFC 3834) so auto-responders stay quiet and the portal can recognise its own mail.
"""

import pytest

from portal.lib.emails import (
    message_ids,
    signed_message_id,
    signed_thread_id,
    verify_message_id,
)
from portal.notifications import delivery
from portal.testing.notices import deliver_pending
from portal.tickets import services

pytestmark = pytest.mark.django_db


def test_every_message_about_a_ticket_carries_the_signed_thread_headers(
    personas, ticket, smtp_server, settings
):
    settings.EMAIL_REPLY_TO = "support@example.com"
    services.comment_add(actor=personas.requester, ticket=ticket, body="Still beeping.")
    deliver_pending()
    delivery.sweep()
    assert len(smtp_server.received) >= 3  # assigned, received, comment
    root = signed_thread_id(f"tkt-{ticket.pk}", "localhost")
    seen_ids = set()
    for received in smtp_server.received:
        mail = received.message
        [address] = received.rcpt_tos
        signed = verify_message_id(mail["Message-ID"])
        assert signed is not None and signed.thread_key == f"tkt-{ticket.pk}"
        assert signed.recipient_id == personas.__dict__[address.split("@")[0]].pk
        assert mail["Message-ID"].startswith(f"<tkt-{ticket.pk}.")
        assert mail["In-Reply-To"] == root
        assert message_ids(mail["References"]) == [root]
        assert mail["Subject"].strip().startswith(f"[{ticket.number}] ")  # (folding may indent)
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["X-Auto-Response-Suppress"] == "All"
        assert mail["X-Loop"] == settings.FROM_EMAIL
        assert mail["Reply-To"] == "support@example.com"
        seen_ids.add(mail["Message-ID"])
    assert len(seen_ids) == len(smtp_server.received)  # one per event and recipient


def test_a_signed_id_verifies_and_any_change_to_it_does_not():
    good = signed_message_id("tkt-42", event_key="ticket:42:comment:7", recipient_id=5, domain="d")
    assert verify_message_id(good).thread_key == "tkt-42"
    assert verify_message_id(good).recipient_id == 5
    forged = good.replace("tkt-42.", "tkt-43.")  # another ticket, same signature
    assert verify_message_id(forged) is None
    assert verify_message_id("<tkt-42.0123456789abcdef0123@d>") is None
    assert verify_message_id("<CAB1234@mail.gmail.com>") is None
    assert verify_message_id("not an id") is None
    assert verify_message_id(signed_thread_id("tkt-42", "d")).recipient_id is None


def test_ids_signed_before_a_key_rotation_still_verify(settings):
    old = signed_thread_id("tkt-7", "d")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "x" * 40
    assert verify_message_id(old).thread_key == "tkt-7"
    settings.SECRET_KEY_FALLBACKS = []
    assert verify_message_id(old) is None
