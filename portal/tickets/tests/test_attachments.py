"""Files on tickets and comments: stored with the ticket or not at all, every refusal
reaching the person with its reason, and nothing half-written.

Local storage in a temporary folder (the embedded set-up); S3 and the browser are in
test_attachments_s3.py and test_attachments_browser.py.
"""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from portal.attachments.tests.files import EXE, pdf, png
from portal.tickets import attachment_services
from portal.tickets.models import Attachment, Comment, Ticket, TicketEvent
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import (
    good_files,
    new_ticket_data,
    stored_keys,
    upload,
)

pytestmark = pytest.mark.django_db

files_storage = attachment_fixtures.files_storage  # the fixture, for this module


def test_raising_a_ticket_with_two_files_stores_both_with_the_ticket(
    personas, org, client_for, files_storage
):
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": good_files()}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Printer smokes")
    assert response["Location"] == ticket.get_absolute_url()
    rows = list(ticket.attachments.order_by("original_name"))
    assert [(row.original_name, row.content_type) for row in rows] == [
        ("invoice.pdf", "application/pdf"),
        ("screenshot.png", "image/png"),
    ]
    for row, data in zip(rows, [pdf(), png()], strict=True):
        # Stored before the ticket existed: under tickets/new/, not its id.
        assert row.storage_key.startswith("tickets/new/")
        assert row.storage_key.endswith("-" + row.original_name)
        assert row.uploader == personas.requester and row.comment is None
        assert row.size == len(data)
        with files_storage.open(row.storage_key) as stored:
            assert stored.read() == data
    event = ticket.events.get(kind=TicketEvent.Kind.ATTACHED)
    assert event.new_value in ("screenshot.png, invoice.pdf", "invoice.pdf, screenshot.png")
    assert event.actor == personas.requester and not event.is_internal


def test_a_comment_with_a_file_attaches_it_to_the_comment(
    personas, ticket, client_for, files_storage
):
    response = client_for(personas.agent).post(
        f"/tickets/{ticket.number}/comments",
        {"body": "Log attached.", "files": [upload("boot.log", b"POST error 3 beeps\n")]},
    )
    assert response.status_code == 302
    comment = Comment.objects.get(body="Log attached.")
    row = comment.attachments.get()
    assert (row.ticket, row.original_name, row.size) == (ticket, "boot.log", 19)
    assert row.content_type == "text/plain; charset=utf-8"


def test_an_internal_comment_s_files_are_internal_in_the_history_too(
    personas, ticket, files_storage
):
    attachment_services.comment_add_with_files(
        actor=personas.agent, ticket=ticket, body="Vendor quote", internal=True,
        files=[upload("quote.pdf", pdf())],
    )  # fmt: skip
    event = ticket.events.get(kind=TicketEvent.Kind.ATTACHED)
    assert event.is_internal and event.new_value == "quote.pdf"


@pytest.mark.parametrize("with_file", [False, True], ids=["text", "file"])
def test_a_comment_s_outcome_carries_the_ticket_the_service_read_even_when_resent(
    with_file, personas, ticket, files_storage
):
    """A text comment from the page hands the service an unread reference (only the id;
    with files the page reads the ticket first). What comes back is the row the service
    locked and checked, as it is after the comment, for a resend too (not read again)."""
    given = ticket if with_file else Ticket(pk=ticket.pk)
    key = uuid.uuid4()

    def send():
        return attachment_services.comment_add_with_files(
            actor=personas.agent, ticket=given, body="On it.", idempotency_key=key,
            files=[upload("boot.log", b"3 beeps")] if with_file else [],
        )  # fmt: skip

    first = send()
    with CaptureQueriesContext(connection) as resend:
        again = send()
    assert (first.replayed, again.replayed) == (False, True)
    ticket_reads = [q["sql"] for q in resend if 'FROM "tickets_ticket"' in q["sql"]]
    assert len(ticket_reads) == 1  # the lock only (SQLite has no row locks to show)
    assert "FOR UPDATE" in ticket_reads[0] or connection.vendor == "sqlite"
    current = Ticket.objects.get(pk=ticket.pk)
    assert current.first_response_at is not None  # the agent's comment was the first answer
    for outcome in (first, again):
        assert outcome.ticket is outcome.comment.ticket
        assert outcome.ticket.title == "Laptop will not start"
        assert outcome.ticket.requester_id == personas.requester.pk
        assert outcome.ticket.first_response_at == current.first_response_at
        assert outcome.ticket.version == current.version


REFUSALS = {
    "renamed program": ("report.pdf", EXE, "program or script"),
    "double extension": ("invoice.exe.pdf", pdf(), "hidden .exe extension"),
    "zero bytes": ("empty.txt", b"", "The file is empty."),
    "too big": ("big.txt", b"x" * 2048, "larger than 1.0"),
    "archive": ("photos.zip", b"PK\x03\x04", "not accepted"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_each_refusal_reaches_the_person_and_nothing_is_written(
    case, personas, org, client_for, files_storage, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    name, data, reason = REFUSALS[case]
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": [upload(name, data)]}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert name in text and reason in text
    assert "1 file was refused, so nothing was saved." in text
    # What was typed is still in the form.
    assert 'value="Printer smokes"' in text and "Since this morning" in text
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert stored_keys(files_storage) == []


def test_every_file_under_one_field_is_validated_not_just_the_last(
    personas, org, client_for, files_storage
):
    files = [
        upload("setup.pdf", EXE),
        upload("fine.png", png()),
        upload("evil.exe.pdf", pdf()),
        upload("last.pdf", pdf()),
    ]
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": files}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["files"]
    assert len(errors) == 2
    assert errors[0].startswith("setup.pdf: ") and errors[1].startswith("evil.exe.pdf: ")
    # The accepted ones are named in the offer to send without the refused ones.
    assert "fine.png, last.pdf without them" in response.content.decode()
    assert "skip_refused" in response.content.decode()
    assert not Ticket.objects.exists() and stored_keys(files_storage) == []


def test_after_confirming_the_accepted_files_are_stored_and_the_refused_named(
    personas, org, client_for, files_storage
):
    client = client_for(personas.requester)
    files = [upload("setup.pdf", EXE), upload("fine.png", png())]
    response = client.post(
        "/tickets/new", {**new_ticket_data(org), "files": files, "skip_refused": "on"}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert [row.original_name for row in ticket.attachments.all()] == ["fine.png"]
    page = client.get(response["Location"]).content.decode()
    assert "Not attached: setup.pdf: The file is a program or script" in page
    assert "1 file attached." in page


def test_a_ticket_takes_at_most_the_configured_number_of_files(
    personas, org, client_for, files_storage, settings
):
    settings.ATTACHMENTS_PER_TICKET = 2
    files = [upload(f"note{index}.txt", b"note\n") for index in range(3)]
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": files}
    )
    assert response.status_code == 400
    assert "at most 2 files; you sent 3" in response.content.decode()
    assert not Ticket.objects.exists() and stored_keys(files_storage) == []


def test_a_comment_cannot_take_a_ticket_past_the_limit(
    personas, ticket, client_for, files_storage, settings
):
    settings.ATTACHMENTS_PER_TICKET = 2
    client = client_for(personas.requester)
    first = client.post(
        f"/tickets/{ticket.number}/comments",
        {"body": "Two photos", "files": [upload("a.png", png()), upload("b.png", png())]},
    )
    assert first.status_code == 302
    response = client.post(
        f"/tickets/{ticket.number}/comments",
        {"body": "One more", "files": [upload("c.png", png())]},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{ticket.number} has 2 and you sent 1" in text
    assert "One more" in text  # the typed comment comes back
    assert not Comment.objects.filter(body="One more").exists()
    assert Attachment.objects.count() == 2 and len(stored_keys(files_storage)) == 2


def test_storage_down_gives_a_clear_error_writes_nothing_and_keeps_the_text(
    personas, org, client_for, settings, tmp_path
):
    from portal.attachments.storage import local_storage_config

    # The storage folder cannot be created: a file sits where it should be.
    (tmp_path / "attachments").write_text("not a folder")
    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(tmp_path)}
    response = client_for(personas.requester).post(
        "/tickets/new", {**new_ticket_data(org), "files": good_files()}
    )
    assert response.status_code == 503
    text = response.content.decode()
    assert "could not be stored right now" in text and "nothing was saved" in text
    assert 'value="Printer smokes"' in text and "Since this morning" in text
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_storage_down_keeps_a_typed_comment(personas, ticket, client_for, settings, tmp_path):
    from portal.attachments.storage import local_storage_config

    (tmp_path / "attachments").write_text("not a folder")
    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(tmp_path)}
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/comments",
        {"body": "Here is the photo", "files": [upload("a.png", png())]},
    )
    assert response.status_code == 503
    assert "could not be stored right now" in response.content.decode()
    assert response.context["comment_form"]["body"].value() == "Here is the photo"
    assert not Comment.objects.exists() and not Attachment.objects.exists()


def test_text_only_comments_and_tickets_never_touch_the_storage(
    personas, org, ticket, client_for, settings, tmp_path
):
    from portal.attachments.storage import local_storage_config

    (tmp_path / "attachments").write_text("not a folder")  # storage down
    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(tmp_path)}
    client = client_for(personas.requester)
    assert client.post("/tickets/new", new_ticket_data(org)).status_code == 302
    comment = client.post(f"/tickets/{ticket.number}/comments", {"body": "Still broken"})
    assert comment.status_code == 302


def test_a_resubmitted_form_does_not_attach_the_files_twice(personas, org, files_storage):
    data = new_ticket_data(org)
    fields = {
        "title": data["title"], "description": data["description"], "group": org.group_x,
        "category": org.hardware, "subcategory": org.printer,
        "idempotency_key": data["idempotency_key"],
    }  # fmt: skip
    first = attachment_services.ticket_create_with_files(
        requester=personas.requester, files=good_files(), **fields
    )
    again = attachment_services.ticket_create_with_files(
        requester=personas.requester, files=good_files(), **fields
    )
    assert again.ticket == first.ticket and again.replayed
    assert Attachment.objects.count() == 2 and len(stored_keys(files_storage)) == 2


def test_an_outsider_cannot_attach_to_a_ticket_they_cannot_see(
    personas, ticket, client_for, files_storage
):
    response = client_for(personas.outsider).post(
        f"/tickets/{ticket.number}/comments", {"body": "x", "files": [upload("a.png", png())]}
    )
    assert response.status_code == 404
    assert not Attachment.objects.exists() and stored_keys(files_storage) == []


def test_files_without_a_comment_can_be_added_and_are_recorded(personas, ticket, files_storage):
    outcome = attachment_services.attachment_add(
        actor=personas.requester, ticket=ticket, files=[upload("later.pdf", pdf())]
    )
    assert [row.original_name for row in outcome.attachments] == ["later.pdf"]
    assert outcome.attachments[0].comment is None
    assert TicketEvent.objects.filter(ticket=ticket, new_value="later.pdf").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_after_upload_leaves_no_object(
    personas, org, files_storage, monkeypatch
):
    """The rows fail in the database after the bytes were stored: the bytes go too."""
    real_bulk_create = Attachment.objects.bulk_create

    def insert_twice(rows, *args, **kwargs):
        real_bulk_create(rows, *args, **kwargs)
        # The same storage keys again: the database's unique constraint refuses.
        for row in rows:
            row.pk = None
        return real_bulk_create(rows, *args, **kwargs)

    monkeypatch.setattr(Attachment.objects, "bulk_create", insert_twice)
    data = new_ticket_data(org)
    with pytest.raises(IntegrityError):
        attachment_services.ticket_create_with_files(
            requester=personas.requester, files=good_files(), title=data["title"],
            description=data["description"], group=org.group_x, category=org.hardware,
        )  # fmt: skip
    assert stored_keys(files_storage) == []
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_a_refused_file_on_a_comment_is_named_and_the_comment_kept(
    personas, ticket, client_for, files_storage
):
    response = client_for(personas.requester).post(
        f"/tickets/{ticket.number}/comments",
        {
            "body": "See the screenshot",
            "files": [upload("shot.png", pdf()), upload("ok.pdf", pdf())],
        },
    )
    assert response.status_code == 400
    form = response.context["comment_form"]
    assert form.errors["files"] == [
        "shot.png: The file's content does not match its .png extension."
    ]
    assert form["body"].value() == "See the screenshot"
    assert "ok.pdf without them" in response.content.decode()
    assert not Comment.objects.exists() and stored_keys(files_storage) == []


def test_the_file_fields_help_states_the_limits_configured_when_the_form_is_made(settings):
    from portal.tickets.forms import CommentForm

    settings.ATTACHMENTS_PER_TICKET = 3
    first = CommentForm()
    settings.ATTACHMENTS_PER_TICKET = 7
    second = CommentForm()
    assert first.fields["files"].help_text.startswith("Up to 3 files per ticket")
    assert second.fields["files"].help_text.startswith("Up to 7 files per ticket")
