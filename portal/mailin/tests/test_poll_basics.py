"""A support mailbox read over real IMAP: mail becomes tickets routed like the page's, is
moved to the processed folder (never deleted), and is never read twice."""

import pytest

from portal.mailin.models import InboundMessage
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.notifications.models import EmailDelivery, Notification
from portal.testing.imap import on_both_servers
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import access
from portal.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


@on_both_servers
def test_a_users_mail_raises_a_ticket_routed_like_the_page_and_is_moved_not_deleted(
    personas, org, imap_server, poll
):
    imap_server.append(
        fixtures.plain("Requester <REQUESTER@example.com>", "Laptop will not boot", "It beeps.")
    )
    result = poll()
    assert result.error == "" and result.moved == 1
    [ticket] = access.system_read(Ticket).all()
    assert ticket.requester == personas.requester  # matched case-insensitively
    assert ticket.title == "Laptop will not boot"
    assert ticket.description == "It beeps."
    assert (ticket.group, ticket.category, ticket.subcategory) == (
        org.group_x, org.hardware, org.laptop,
    )  # fmt: skip
    assert ticket.team == org.team_a and ticket.assignee is not None  # routed
    assert imap_server.uids("INBOX") == [] and len(imap_server.uids("Processed")) == 1
    assert outcomes() == ["ticket"]
    row = InboundMessage.objects.get()
    assert row.ticket == ticket and row.sender == "requester@example.com"
    # The requester is told, with a mail that threads under the ticket.
    deliver_pending()
    assert EmailDelivery.objects.filter(to_address="requester@example.com").exists()


@on_both_servers
def test_a_second_poll_reads_nothing_again(personas, imap_server, poll):
    imap_server.append(fixtures.plain("requester@example.com", "Printer", "Jammed."))
    poll()
    result = poll()
    assert result.moved == 0 and not result.outcomes
    assert access.system_read(Ticket).count() == 1 and outcomes() == ["ticket"]


def test_files_pass_the_upload_checks_and_refused_ones_are_listed_and_answered(
    personas, imap_server, poll, settings
):
    settings.ATTACHMENT_MAX_BYTES = 50_000
    imap_server.append(
        fixtures.with_files(
            "requester@example.com",
            "Screen flickers",
            "Photos attached.",
            fixtures.oversized_and_program(60_000),
        )
    )
    poll()
    [ticket] = access.system_read(Ticket).all()
    names = list(access.system_read(Attachment).filter(ticket=ticket).values_list(
        "original_name", flat=True))  # fmt: skip
    assert names == ["photo.png"]
    assert "Files in the email that were not accepted:" in ticket.description
    assert "- huge.pdf: The file is larger than" in ticket.description
    assert "- setup.exe: Files ending in .exe are not accepted" in ticket.description
    deliver_pending()
    [answer] = written(EmailDelivery.objects.filter(kind="mailin_files_refused"))
    assert answer.to_address == "requester@example.com"
    assert "huge.pdf" in answer.body_text and "setup.exe" in answer.body_text


def test_good_files_are_attached_to_the_new_ticket(personas, imap_server, poll):
    imap_server.append(
        fixtures.with_files("requester@example.com", "Broken", "See files.", fixtures.good_files())
    )
    poll()
    [ticket] = access.system_read(Ticket).all()
    assert sorted(
        access.system_read(Attachment).filter(ticket=ticket).values_list("original_name", flat=True)
    ) == ["invoice.pdf", "photo.png"]


def test_html_mail_becomes_sanitised_markdown(personas, imap_server, poll):
    imap_server.append(fixtures.html_only_with_script("requester@example.com", "VPN drops"))
    poll()
    [ticket] = access.system_read(Ticket).all()
    text = ticket.description
    assert "The **VPN** drops every hour." in text
    assert "[status](https://status.example/vpn)" in text
    for bad in ("<script", "alert", "javascript:", "onclick", "color:red", "tracker.example"):
        assert bad not in text


def test_non_utf8_charsets_are_read_and_an_unknown_one_loses_nothing(personas, imap_server, poll):
    imap_server.append(fixtures.latin1("requester@example.com", "x"))
    imap_server.append(fixtures.unknown_charset("requester@example.com"))
    poll()
    first, second = access.system_read(Ticket).order_by("pk")
    assert first.title == "Imprimante cassée"
    assert "L'imprimante du 3ème étage ne répond plus. Merci d'avance, Renée" in first.description
    assert second.title == "Odd charset"
    assert second.description.startswith("Caf") and "machine is broken" in second.description


def test_a_mailbox_that_fails_tells_the_admins_once_per_outage(
    personas, mailbox, imap_server, poll, settings
):
    settings.INBOUND_ALERT_AFTER_FAILURES = 2
    mailbox.password = "wrong"
    mailbox.save()
    result = poll()
    mailbox.refresh_from_db()
    assert result.error and mailbox.last_error and mailbox.failures_in_a_row == 1
    assert mailbox.last_success_at is None
    deliver_pending()
    alerts = Notification.objects.filter(kind="mailin_mailbox_failing")
    assert not alerts.exists()  # one dropped connection tells nobody
    for _ in range(4):  # the outage goes on: polled every minute
        poll()
    deliver_pending()
    [alert] = alerts
    assert alert.recipient == personas.admin
    assert alert.text == "The mailbox support@example.com cannot be read"
    # It works again: the count starts over, and the next outage is told once more.
    mailbox.password = imap_server.password
    mailbox.save()
    assert poll().error == ""
    mailbox.refresh_from_db()
    assert mailbox.failures_in_a_row == 0 and mailbox.last_success_at is not None
    mailbox.password = "wrong again"
    mailbox.save()
    poll()
    poll()
    deliver_pending()
    assert alerts.all().count() == 2  # (a fresh query: `alerts` holds its first result)


def test_a_message_over_the_size_limit_is_never_read_whole_and_kept(
    personas, imap_server, poll, settings
):
    settings.INBOUND_MAX_MESSAGE_BYTES = 20_000
    imap_server.append(
        fixtures.with_files(
            "requester@example.com",
            "Huge",
            "x",
            [("big.pdf", b"%PDF" + b"x" * 40_000, "application/pdf")],
        ),
        fixtures.plain("requester@example.com", "Small", "Fine."),
    )
    poll()
    assert outcomes() == ["rejected", "ticket"]
    rejected = InboundMessage.objects.get(outcome="rejected")
    assert rejected.sender == "requester@example.com" and rejected.subject == "Huge"
    assert rejected.detail.endswith("the limit is 20000.")
    assert [t.title for t in access.system_read(Ticket).all()] == ["Small"]
    assert len(imap_server.uids("Processed")) == 2  # kept, never deleted
    # The email equivalent of a 4xx: the sender is told why, once, and nothing was written.
    deliver_pending()
    [told] = written(EmailDelivery.objects.filter(kind="mailin_rejected"))
    assert told.to_address == "requester@example.com" and "the limit is 20000." in told.body_text
    assert rejected.answered and rejected.ticket is None and rejected.raw_key == ""
    poll()  # a second poll answers nothing more
    deliver_pending()
    assert EmailDelivery.objects.filter(kind="mailin_rejected").count() == 1


@on_both_servers
def test_a_new_uidvalidity_reads_the_folder_afresh_and_doubles_nothing(
    personas, mailbox, imap_server, poll
):
    mailbox.folder = "Support"
    mailbox.save()
    monitor = fixtures.plain("requester@example.com", "Monitor", "Dead.")
    imap_server.append(monitor, folder="Support")
    poll()
    mailbox.refresh_from_db()
    first_validity = mailbox.uidvalidity
    # The folder is recreated (a restore, a migration to another server): its UIDs start
    # again under a new UIDVALIDITY, so UID 1 now names another message.
    with imap_server.client() as box:
        box.folder.delete("Support")
        box.folder.create("Support")
    dock = fixtures.plain("requester@example.com", "Dock", "No power.")
    imap_server.append(dock, folder="Support")
    result = poll()
    assert result.error == "" and result.moved == 1 and result.outcomes == {"ticket": 1}
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != first_validity
    assert sorted(access.system_read(Ticket).values_list("title", flat=True)) == ["Dock", "Monitor"]
    rows = list(InboundMessage.objects.order_by("id").values_list("uidvalidity", "uid"))
    assert rows[0][0] == first_validity and rows[1][0] == mailbox.uidvalidity
    assert imap_server.uids("Support") == [] and len(imap_server.uids("Processed")) == 2
    poll()  # and nothing is read twice under the new validity
    assert access.system_read(Ticket).count() == 2 and outcomes() == ["ticket", "ticket"]


# Dovecot only: pymap expunges \Deleted mail at LOGOUT, so the flag cannot outlive the
# session that set it there.
@pytest.mark.parametrize("imap_server", ["dovecot", "dovecot-without-move"], indirect=True)
def test_the_move_takes_exactly_the_read_messages_whatever_the_server_offers(
    personas, imap_server, poll, settings
):
    settings.INBOUND_BATCH_SIZE = 1
    imap_server.append(
        fixtures.plain("requester@example.com", "Scanner", "Offline."),
        fixtures.plain("requester@example.com", "Badge", "Lost."),
    )
    # Someone flagged the second mail deleted in their mail client and has not expunged it:
    # moving the first (with or without MOVE) must not take the second away unread.
    second = max(imap_server.uids("INBOX"))
    with imap_server.client() as box:
        box.folder.set("INBOX")
        # (not box.flag(): imap-tools expunges right after setting a flag)
        box.client.uid("STORE", str(second), "+FLAGS", r"(\Deleted)")
    assert poll().moved == 1
    assert len(imap_server.uids("INBOX")) == 1 and len(imap_server.uids("Processed")) == 1
    assert poll().moved == 1
    assert imap_server.uids("INBOX") == [] and len(imap_server.uids("Processed")) == 2
    assert sorted(access.system_read(Ticket).values_list("title", flat=True)) == [
        "Badge", "Scanner",
    ]  # fmt: skip


def test_mail_to_a_mailbox_whose_category_is_out_of_use_is_refused_and_the_sender_told_why(
    personas, org, imap_server, poll
):
    # The ticket services refuse the mailbox's classification (InvalidInput): nothing of
    # the mail is written, and its sender learns why instead of waiting for an answer.
    org.hardware.is_active = False
    org.hardware.save(update_fields=["is_active"])
    imap_server.append(fixtures.plain("requester@example.com", "Dock flickers", "Help."))
    poll()
    assert not access.system_read(Ticket).exists()
    row = InboundMessage.objects.get()
    assert (row.outcome, row.ticket) == ("rejected", None)
    assert "no longer in use" in row.detail
    deliver_pending()
    [told] = written(EmailDelivery.objects.filter(kind="mailin_rejected"))
    assert told.to_address == "requester@example.com" and row.detail in told.body_text
    assert row.answered and len(imap_server.uids("Processed")) == 1
