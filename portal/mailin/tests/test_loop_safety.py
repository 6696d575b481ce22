"""Mail the portal must never answer, and the caps that stop what says nothing of itself.

Also the exactly-once promise: a re-run, the same mail twice, a crash between the write
and the move, and a crash inside the write never lose a message nor make two of anything.
"""

import pytest

from portal.lib.emails import signed_message_id
from portal.mailin import poller
from portal.mailin.models import InboundMessage
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.notifications import delivery
from portal.notifications.models import EmailDelivery, EmailSuppression
from portal.testing.imap import on_both_servers
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import access, notify, services
from portal.tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def ticket_count() -> int:
    return access.system_read(Ticket).count()


def latest_mail_to(address: str) -> EmailDelivery:
    deliver_pending()  # what the worker does within seconds of the event
    [mail] = written([EmailDelivery.objects.filter(to_address=address).latest("created_at")])
    return mail


def test_auto_replies_lists_and_bounces_are_recorded_and_never_answered(
    personas, ticket, imap_server, poll
):
    deliver_pending()
    [mail] = written(
        [EmailDelivery.objects.filter(to_address="requester@example.com").latest("created_at")]
    )
    before = EmailDelivery.objects.count()
    imap_server.append(
        fixtures.exchange_out_of_office(
            "requester@example.com", mail.subject, in_reply_to=mail.message_id
        ),
        fixtures.list_mail("announce@lists.example.com"),
        fixtures.dsn_5_1_1("gone@example.com"),
        fixtures.plain("stranger@elsewhere.example", "Hi", "x").replace(
            b"Subject: Hi", b"Subject: Hi\nPrecedence: bulk"
        ),
    )
    poll()
    assert outcomes() == ["auto_reply", "auto_reply", "bounce", "auto_reply"]
    assert access.system_read(Comment).count() == 0 and ticket_count() == 1
    deliver_pending()
    assert EmailDelivery.objects.count() == before  # nobody was answered, nobody told
    assert imap_server.uids("INBOX") == []  # kept in the processed folder, not deleted
    assert len(imap_server.uids("Processed")) == 4


def test_the_portals_own_mail_coming_back_is_dropped(personas, imap_server, poll, settings):
    own_id = signed_message_id("tkt-1", event_key="e", recipient_id=1, domain="localhost")
    imap_server.append(
        fixtures.plain(settings.FROM_EMAIL, "Loop", "ours"),
        fixtures.plain("requester@example.com", "Looped", "x", message_id=own_id),
        fixtures.plain("requester@example.com", "Looped", "y").replace(
            b"Subject:", f"X-Loop: {settings.FROM_EMAIL}\nSubject:".encode()
        ),
    )
    poll()
    assert outcomes() == ["loop"] * 3 and ticket_count() == 0


def test_an_unknown_sender_is_answered_once_a_day_and_never_gets_a_ticket(
    personas, imap_server, poll
):
    imap_server.append(
        fixtures.plain("Stranger <Stranger@Elsewhere.example>", "Help", "Please help."),
        fixtures.plain("stranger@elsewhere.example", "Help again", "Hello?"),
    )
    poll()
    assert outcomes() == ["unknown_sender", "unknown_sender"] and ticket_count() == 0
    deliver_pending()
    [answer] = written(EmailDelivery.objects.filter(kind="mailin_unknown_sender"))
    assert answer.to_address == "stranger@elsewhere.example"
    assert answer.thread_id.endswith("@client.example>")  # threads under their mail
    assert "/tickets/new" in answer.body_text
    answered = InboundMessage.objects.order_by("id").values_list("answered", flat=True)
    assert list(answered) == [True, False]


def test_a_mailbox_set_to_refuse_never_answers_unknown_senders(
    personas, mailbox, imap_server, poll
):
    mailbox.unknown_senders = mailbox.UnknownSenders.REFUSE
    mailbox.save()
    imap_server.append(fixtures.plain("stranger@elsewhere.example", "Help", "Please help."))
    poll()
    assert outcomes() == ["unknown_sender"]
    deliver_pending()
    assert not EmailDelivery.objects.filter(kind="mailin_unknown_sender").exists()


def test_a_sender_over_the_hourly_cap_is_held_back(personas, imap_server, poll, settings):
    settings.INBOUND_SENDER_LIMIT_PER_HOUR = 3
    imap_server.append(
        *(fixtures.plain("requester@example.com", f"Flood {n}", f"n={n}") for n in range(5))
    )
    poll()
    assert outcomes() == ["ticket"] * 3 + ["capped"] * 2 and ticket_count() == 3


def test_an_auto_responder_that_marks_nothing_is_stopped_by_the_ticket_cap(
    personas, ticket, imap_server, poll, settings
):
    """Two systems answering each other: a responder that marks nothing (no Auto-Submitted,
    no Precedence) answers each mail it gets, each answer a little different; the cap on
    mail per ticket ends it."""
    settings.INBOUND_TICKET_LIMIT_PER_HOUR = 4
    deliver_pending()
    [mail] = written(
        [EmailDelivery.objects.filter(to_address="requester@example.com").latest("created_at")]
    )
    for n in range(6):
        imap_server.append(
            fixtures.out_of_office_without_headers(
                "requester@example.com", mail.subject, in_reply_to=mail.message_id
            ).replace(b"I am away", f"I am away (answer {n})".encode())
        )
        poll()
    assert outcomes().count("comment") == 4 and outcomes()[-2:] == ["capped", "capped"]


@on_both_servers
def test_the_same_mail_twice_makes_one_ticket_and_a_reused_message_id_loses_nothing(
    personas, imap_server, poll
):
    same = fixtures.plain("requester@example.com", "Keyboard", "Keys stick.", message_id="<d@c>")
    reused = fixtures.plain("requester@example.com", "Mouse", "It drifts.", message_id="<d@c>")
    imap_server.append(same, same, reused)
    poll()
    assert outcomes() == ["ticket", "duplicate", "ticket"]
    assert sorted(access.system_read(Ticket).values_list("title", flat=True)) == [
        "Keyboard", "Mouse",
    ]  # fmt: skip


@on_both_servers
def test_a_crash_between_the_write_and_the_move_makes_one_ticket_and_the_move_happens_later(
    personas, imap_server, poll, monkeypatch
):
    imap_server.append(
        fixtures.plain("requester@example.com", "Docking station", "No power."),
        fixtures.plain("requester@example.com", "Headset", "No sound."),
    )

    def connection_lost(self, *args, **kwargs):
        raise ConnectionResetError("connection lost before MOVE")

    with monkeypatch.context() as patched:
        patched.setattr(poller, "move_processed", connection_lost)
        result = poll()
    assert result.error.startswith("ConnectionResetError") and ticket_count() == 2
    assert len(imap_server.uids("INBOX")) == 2  # still on the server: nothing lost
    result = poll()  # the worker again: the ledger knows both, so only the move is done
    assert result.error == "" and result.moved == 2 and not result.outcomes
    assert ticket_count() == 2 and outcomes() == ["ticket", "ticket"]
    assert imap_server.uids("INBOX") == []


@on_both_servers
def test_a_crash_inside_the_write_leaves_the_mail_for_the_next_poll(
    personas, imap_server, poll, monkeypatch
):
    imap_server.append(fixtures.plain("requester@example.com", "Webcam", "Black image."))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed mid-transaction")

    with monkeypatch.context() as patched:
        patched.setattr(notify, "ticket_created", killed)
        with pytest.raises(SystemExit):
            poll()
    assert ticket_count() == 0 and outcomes() == []  # rolled back together
    assert len(imap_server.uids("INBOX")) == 1
    poll()
    assert ticket_count() == 1 and outcomes() == ["ticket"]
    assert imap_server.uids("INBOX") == []


def test_every_fixture_makes_at_most_one_thing_across_re_runs_and_re_deliveries(
    personas, ticket, imap_server, poll
):
    deliver_pending()
    [mail] = written(
        [EmailDelivery.objects.filter(to_address="requester@example.com").latest("created_at")]
    )
    raws = [
        fixtures.outlook_reply("requester@example.com", mail.subject,
                               in_reply_to=mail.message_id, references=mail.thread_id),
        fixtures.gmail_html_reply(ticket.assignee.email, mail.subject,
                                  in_reply_to=mail.message_id, references=mail.thread_id),
        fixtures.html_only_with_script("requester@example.com", "VPN"),
        fixtures.latin1("requester@example.com", "x"),
        fixtures.exchange_out_of_office("requester@example.com", "x", in_reply_to=mail.message_id),
        fixtures.list_mail("announce@lists.example.com"),
        fixtures.dsn_5_1_1("gone@example.com"),
        fixtures.with_files("requester@example.com", "Files", "x", fixtures.good_files()),
    ]  # fmt: skip
    imap_server.append(*raws)
    poll()
    poll()  # a re-run
    first = (ticket_count(), access.system_read(Comment).count())
    assert first == (4, 2)
    imap_server.append(*raws)  # the server delivers them all again (a restored mailbox)
    poll()
    assert (ticket_count(), access.system_read(Comment).count()) == first
    assert outcomes().count("duplicate") == 5  # the 3 automatic ones are automatic again


def test_a_permanent_bounce_fails_the_delivery_and_suppresses_the_address(
    personas, ticket, imap_server, poll, smtp_server
):
    deliver_pending()
    delivery.sweep()
    sent = EmailDelivery.objects.filter(to_address="requester@example.com", status="sent")
    assert sent.exists()
    imap_server.append(fixtures.dsn_5_1_1("requester@example.com"))
    poll()
    assert outcomes() == ["bounce"]
    assert InboundMessage.objects.get().detail == (
        "permanent: requester@example.com; 1 sent message(s) marked failed"
    )
    deliver_pending()
    bounced = EmailDelivery.objects.filter(to_address="requester@example.com").latest("sent_at")
    assert bounced.status == "failed" and bounced.last_error.startswith("Bounced: bounce from")
    assert EmailSuppression.objects.filter(address="requester@example.com").exists()
    # The next message to that address is not sent: the server would only bounce it again.
    services.comment_add(actor=ticket.assignee, ticket=ticket, body="Any news?")
    received_before = len(smtp_server.messages_to("requester@example.com"))
    deliver_pending()
    delivery.sweep()
    assert len(smtp_server.messages_to("requester@example.com")) == received_before
    latest = EmailDelivery.objects.filter(to_address="requester@example.com").latest("created_at")
    assert latest.status == "failed" and latest.last_error.startswith("Suppressed")
    assert not EmailDelivery.objects.filter(kind="mailin_unknown_sender").exists()


def test_a_bounce_quoting_our_message_id_fails_exactly_that_delivery(
    personas, ticket, imap_server, poll, smtp_server
):
    """Two messages went to the requester; the bounce returns the headers of the first:
    that one is failed, not the latest one sent to the address."""
    services.comment_add(actor=ticket.assignee, ticket=ticket, body="Please restart it.")
    deliver_pending()
    delivery.sweep()
    sent = EmailDelivery.objects.filter(to_address="requester@example.com", status="sent")
    first, latest = sent.order_by("created_at")[0], sent.order_by("-created_at")[0]
    assert first.pk != latest.pk
    imap_server.append(
        fixtures.dsn_5_1_1("requester@example.com", original_message_id=first.message_id)
    )
    poll()
    first.refresh_from_db()
    latest.refresh_from_db()
    assert first.status == "failed" and first.last_error.startswith("Bounced:")
    assert latest.status == "sent"
    assert EmailSuppression.objects.filter(address="requester@example.com").exists()


def test_a_bounce_of_mail_the_portal_did_not_send_marks_no_delivery(
    personas, ticket, imap_server, poll, smtp_server
):
    deliver_pending()
    delivery.sweep()
    imap_server.append(
        fixtures.dsn_5_1_1("requester@example.com", original_message_id="<own@laptop.example>")
    )
    poll()
    deliver_pending()
    assert not EmailDelivery.objects.filter(status="failed").exists()
    assert InboundMessage.objects.get().detail.endswith("0 sent message(s) marked failed")
