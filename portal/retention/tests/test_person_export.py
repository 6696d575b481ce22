"""The person export: everything held about one user, as a zip, for admins only."""

import io
import json
import logging
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from portal.attachments.tests.files import pdf
from portal.csat import services as csat
from portal.notifications.models import Notification
from portal.retention.person_data import SECTIONS, USER_KEYS
from portal.testing.notices import deliver_pending
from portal.tickets import services as tickets
from portal.tickets.models import Status
from portal.tickets.tests.attachment_fixtures import new_ticket_data, upload

pytestmark = pytest.mark.django_db


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


EXPECTED = {
    **{p: 403 for p in ["requester", "agent", "lead", "spoc", "outsider"]},
    "admin": 200,
    "anonymous": 302,
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_person_export_permission_matrix(client_for, personas, persona):
    user = None if persona == "anonymous" else getattr(personas, persona)
    response = client_for(user).get(f"/settings/users/{personas.requester.pk}/export")
    assert response.status_code == EXPECTED[persona]


def test_an_unknown_user_is_a_404(client_for, personas):
    assert client_for(personas.admin).get("/settings/users/999999/export").status_code == 404


def test_every_foreign_key_to_users_is_exported_or_explained():
    user_model = get_user_model()
    keys = {
        f"{model._meta.label}.{f.name}"
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if not f.auto_created and f.is_relation and f.related_model is user_model
    }
    assert keys == set(USER_KEYS)
    assert {v for v in USER_KEYS.values() if not v.startswith("none:")} <= set(SECTIONS)


def test_the_zip_holds_their_tickets_comments_files_and_more(client_for, personas, org, caplog):
    requester = personas.requester
    client_for(requester).post(
        "/tickets/new",
        {**new_ticket_data(org, title="Printer smokes"), "files": [upload("scan.pdf", pdf())]},
    )
    ticket = requester.requested_tickets.get()
    tickets.comment_add(actor=requester, ticket=ticket, body="Still smoking.")
    tickets.comment_add(actor=personas.agent, ticket=ticket, body="Internal", internal=True)
    tickets.ticket_change_status(actor=personas.agent, ticket=ticket, status=Status.RESOLVED)
    ticket.refresh_from_db()
    csat.rating_record(
        actor=requester,
        ticket_id=ticket.pk,
        resolved_at=ticket.resolved_at,
        score="good",
        comment="Quick, thanks",
    )
    deliver_pending()
    Notification.objects.create(recipient=requester, kind="test", text="Hello")

    with caplog.at_level(logging.INFO, logger="portal.security"):
        response = client_for(personas.admin).get(f"/settings/users/{requester.pk}/export")
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    archive = _zip(response)
    names = set(archive.namelist())
    assert {f"{section}.json" for section in SECTIONS} <= names

    def section(name):
        return json.loads(archive.read(f"{name}.json"))

    assert section("profile")[0]["email"] == "requester@example.com"
    assert [t["title"] for t in section("tickets_raised")] == ["Printer smokes"]
    # Their own comments only: the agent's internal note is not theirs.
    assert [c["body"] for c in section("comments")] == ["Still smoking."]
    files = section("attachments")
    assert [f["name"] for f in files] == ["scan.pdf"]
    assert archive.read(files[0]["file"]) == pdf()
    assert [r["comment"] for r in section("ratings")] == ["Quick, thanks"]
    assert "Hello" in [n["text"] for n in section("notifications")]
    # Mail still queued is exported as it will be sent (the worker has not written it yet).
    mails = section("email_deliveries")
    assert mails and all(m["subject"] and m["body_text"] for m in mails)
    assert any("Printer smokes" in m["subject"] for m in mails)
    assert {e["kind"] for e in section("history")} >= {"created", "commented"}
    record = next(r for r in caplog.records if r.getMessage() == "person data exported")
    assert (record.user_id, record.actor_id) == (requester.pk, personas.admin.pk)


def test_a_file_missing_from_storage_is_listed_not_fatal(client_for, personas, org):
    from portal.attachments.storage import get_storage

    client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": [upload("scan.pdf", pdf())]}
    )
    key = personas.requester.requested_tickets.get().attachments.get().storage_key
    get_storage().delete(key)
    archive = _zip(
        client_for(personas.admin).get(f"/settings/users/{personas.requester.pk}/export")
    )
    assert len(json.loads(archive.read("missing_files.json"))) == 1


def test_an_admins_triage_decisions_on_others_mail_are_in_their_export(client_for, personas):
    from portal.mailin import triage
    from portal.mailin.models import InboundMessage, Mailbox

    box = Mailbox.objects.create(
        name="Support", address="support@example.com", target=Mailbox.Target.TRIAGE
    )

    def waiting(uid: int, sender: str, subject: str) -> InboundMessage:
        return InboundMessage.objects.create(
            mailbox=box, uidvalidity=1, uid=uid, content_hash=f"{uid}", sender=sender,
            subject=subject, outcome=InboundMessage.Outcome.TRIAGE,
        )  # fmt: skip

    spam = waiting(1, personas.requester.email, "Cheap printers")
    waiting(2, "other@elsewhere.example", "Still waiting")
    triage.inbound_triage_dismiss(actor=personas.admin, message_pk=spam.pk)
    admin = personas.admin
    archive = _zip(client_for(admin).get(f"/settings/users/{admin.pk}/export"))
    raw = archive.read("inbound_messages.json").decode()
    rows = json.loads(raw)
    assert [(r["outcome"], r["decided_by_them"]) for r in rows] == [("rejected", True)]
    # The decision is the admin's; who wrote the mail and what about is not.
    assert personas.requester.email not in raw and "Cheap printers" not in raw
    # The sender's export has the same mail as theirs, not as their decision.
    requester = personas.requester
    archive = _zip(client_for(admin).get(f"/settings/users/{requester.pk}/export"))
    rows = json.loads(archive.read("inbound_messages.json"))
    assert [(r["subject"], r["decided_by_them"]) for r in rows] == [("Cheap printers", False)]


def test_notifications_not_yet_delivered_are_in_their_export_without_the_others_named(
    client_for, personas
):
    from django.utils import timezone

    from portal.notifications.models import PendingNotice
    from portal.notifications.services import Message, notify_many

    def message(recipients, text, key, kind="ticket_comment"):
        return Message(
            recipients=recipients, kind=kind, text=text, link="/tickets/TKT-000007",
            context={"text": text, "body": "Details"}, event_key=f"ticket:7:{key}",
        )  # fmt: skip

    requester = personas.requester
    notify_many(
        [
            message([requester, personas.agent], "New comment on TKT-000007", "a"),
            message([personas.lead], "Internal note on TKT-000007", "b"),
        ]
    )
    failed = notify_many([message([requester], "TKT-000008 is now Resolved", "c", "ticket_status")])
    PendingNotice.objects.filter(pk=failed.pk).update(failed_at=timezone.now(), attempts=8)
    notify_many([message([personas.agent], "Not theirs", "d")])

    archive = _zip(client_for(personas.admin).get(f"/settings/users/{requester.pk}/export"))
    rows = json.loads(archive.read("pending_notifications.json"))
    assert [(r["kind"], r["text"], r["state"]) for r in rows] == [
        ("ticket_comment", "New comment on TKT-000007", "pending"),
        ("ticket_status", "TKT-000008 is now Resolved", "failed"),
    ]
    # What they will be told, and nothing about whom else the event tells.
    assert rows[0] == {
        "kind": "ticket_comment",
        "text": "New comment on TKT-000007",
        "link": "/tickets/TKT-000007",
        "email_values": {"text": "New comment on TKT-000007", "body": "Details"},
        "in_app": True,
        "state": "pending",
        "event_at": rows[0]["event_at"],
    }
    assert rows[0]["event_at"].startswith(str(timezone.now().year))
