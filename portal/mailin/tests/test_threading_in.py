"""Replies find their ticket in the documented order, and only the right people's do.

Each test answers a notification the portal really queued (its signed Message-ID and the
ticket's root), with messages shaped like Outlook's and Gmail's, on a real IMAP server.
"""

import pytest

from portal.mailin.models import InboundMessage
from portal.mailin.tests import fixtures
from portal.mailin.tests.conftest import outcomes
from portal.notifications.models import EmailDelivery
from portal.testing.imap import on_both_servers
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import access, services
from portal.tickets.models import Comment, Status, Ticket

pytestmark = pytest.mark.django_db


def notification_to(address: str, ticket) -> EmailDelivery:
    deliver_pending()  # what the worker does within seconds of the event
    latest = EmailDelivery.objects.filter(
        to_address=address, event_key__startswith=f"ticket:{ticket.pk}:"
    ).latest("created_at")
    return written([latest])[0]


def comments(ticket) -> list[Comment]:
    return list(access.system_read(Comment).filter(ticket=ticket).order_by("pk"))


@on_both_servers
def test_an_outlook_reply_becomes_the_requesters_comment_without_the_quoted_history(
    personas, ticket, imap_server, poll
):
    mail = notification_to("requester@example.com", ticket)
    imap_server.append(
        fixtures.outlook_reply(
            "Requester Persona <requester@example.com>",
            mail.subject,
            in_reply_to=mail.message_id,
            references=f"{mail.thread_id} {mail.message_id}",
        )
    )
    poll()
    [comment] = comments(ticket)
    assert comment.author == personas.requester and not comment.is_internal
    assert comment.body == "Thanks, it works again after the restart.\n\nEmma"
    assert InboundMessage.objects.get().detail == "matched by signed"
    # The people working the ticket are told, as for a comment on the page.
    deliver_pending()
    assert EmailDelivery.objects.filter(event_key=f"ticket:{ticket.pk}:comment:{comment.pk}")


def test_a_gmail_reply_from_the_agent_is_a_public_comment(personas, ticket, imap_server, poll):
    mail = notification_to(ticket.assignee.email, ticket)
    imap_server.append(
        fixtures.gmail_html_reply(
            ticket.assignee.email,
            mail.subject,
            in_reply_to=mail.message_id,
            references=f"{mail.thread_id} {mail.message_id}",
        )
    )
    poll()
    [comment] = comments(ticket)
    assert comment.author == ticket.assignee and not comment.is_internal
    assert comment.body == "Still beeping, see below."


def test_a_workers_reply_to_an_internal_note_stays_internal(personas, ticket, imap_server, poll):
    holder = ticket.assignee
    other = personas.lead if holder.pk == personas.agent.pk else personas.agent
    note = services.comment_add(actor=holder, ticket=ticket, body="Check the PSU.", internal=True)
    deliver_pending()
    mail = EmailDelivery.objects.get(
        to_address=other.email, event_key=f"ticket:{ticket.pk}:comment:{note.pk}"
    )
    imap_server.append(
        fixtures.plain(other.email, mail.subject, "PSU replaced.", in_reply_to=mail.message_id)
    )
    poll()
    reply = comments(ticket)[-1]
    assert reply.author == other and reply.is_internal and reply.body == "PSU replaced."


def test_the_requesters_reply_resumes_a_ticket_on_hold(personas, ticket, imap_server, poll):
    services.ticket_change_status(actor=ticket.assignee, ticket=ticket, status=Status.ON_HOLD)
    mail = notification_to("requester@example.com", ticket)
    imap_server.append(
        fixtures.plain(
            "requester@example.com",
            f"Re: {mail.subject}",
            "Here it is.",
            in_reply_to=mail.message_id,
        )  # fmt: skip
    )
    poll()
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert comments(ticket)[-1].body == "Here it is."


def test_a_reply_whose_parent_id_a_gateway_rewrote_still_finds_the_ticket_by_references(
    personas, ticket, imap_server, poll
):
    mail = notification_to("requester@example.com", ticket)
    imap_server.append(
        fixtures.plain(
            "requester@example.com",
            "Re: something else entirely",
            "Rewritten on the way, still mine.",
            in_reply_to="<0100018c-rewritten@email.gateway.example>",
            references=f"{mail.thread_id} <0100018c-rewritten@email.gateway.example>",
        )
    )
    poll()
    assert [c.body for c in comments(ticket)] == ["Rewritten on the way, still mine."]


def test_a_reply_to_the_mail_that_raised_a_ticket_is_matched_by_its_known_message_id(
    personas, imap_server, poll
):
    imap_server.append(
        fixtures.plain(
            "requester@example.com", "Monitor dead", "No picture.", message_id="<first@c.example>"
        )
    )
    poll()
    [ticket] = access.system_read(Ticket).all()
    imap_server.append(
        fixtures.plain(
            ticket.assignee.email,
            "Re: Monitor dead",
            "Swapping it today.",
            in_reply_to="<first@c.example>",
            references="<first@c.example>",
        )  # fmt: skip
    )
    poll()
    assert [c.body for c in comments(ticket)] == ["Swapping it today."]
    assert InboundMessage.objects.latest("id").detail == "matched by known"


def test_the_subject_tag_matches_only_for_people_involved_in_the_ticket(
    personas, ticket, imap_server, poll
):
    tag = f"[{ticket.number}]"
    imap_server.append(
        # The requester, writing fresh with the tag: a comment.
        fixtures.plain("requester@example.com", f"{tag} one more thing", "Also the fan."),
        # Someone who may not see the ticket forges the tag: their own new ticket.
        fixtures.plain("outsider@example.com", f"{tag} hijack", "Put this on that ticket."),
        # An address with no account forges it: no comment, no ticket.
        fixtures.plain("stranger@elsewhere.example", f"{tag} hijack", "Me too."),
    )
    poll()
    assert [c.body for c in comments(ticket)] == ["Also the fan."]
    forged = access.system_read(Ticket).exclude(pk=ticket.pk).get()
    assert forged.requester == personas.outsider and forged.title == "hijack"
    assert outcomes() == ["comment", "ticket", "unknown_sender"]


def test_a_signed_reply_from_someone_without_access_is_only_an_unverified_internal_note(
    personas, ticket, imap_server, poll
):
    mail = notification_to("requester@example.com", ticket)  # forwarded to the outsider
    reply = fixtures.plain(
        "outsider@example.com",
        f"Re: {mail.subject}",
        "I saw this forwarded.",
        in_reply_to=mail.message_id,
    )
    imap_server.append(reply, reply)  # and delivered twice
    poll()
    [note] = comments(ticket)
    assert note.is_internal and note.author == personas.outsider
    assert note.body == (
        "**Unverified email from outsider@example.com**, who cannot see this ticket:\n\n"
        "I saw this forwarded."
    )
    assert not Comment.objects.visible_to(personas.requester, ticket).exists()
    assert Comment.objects.visible_to(ticket.assignee, ticket).get() == note
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.first_response_at is None
    assert outcomes() == ["note", "duplicate"]
    # The people working it are told, the requester is not.
    deliver_pending()
    told = set(
        EmailDelivery.objects.filter(event_key=f"ticket:{ticket.pk}:comment:{note.pk}").values_list(
            "to_address", flat=True
        )
    )
    assert ticket.assignee.email in told and "requester@example.com" not in told


def test_a_reply_to_a_ticket_closed_long_ago_raises_a_follow_up(
    personas, ticket, imap_server, poll
):
    access.system_read(Ticket).filter(pk=ticket.pk).update(status=Status.CANCELLED)
    mail = notification_to("requester@example.com", ticket)
    imap_server.append(
        fixtures.plain(
            "requester@example.com",
            f"Re: {mail.subject}",
            "It is back.",
            in_reply_to=mail.message_id,
        )  # fmt: skip
    )
    poll()
    follow_up = access.system_read(Ticket).exclude(pk=ticket.pk).get()
    assert follow_up.description.startswith(f"Follow-up to {ticket.number} (closed)")
    assert comments(ticket) == []


def test_a_reply_with_no_text_is_refused_and_the_sender_told_why(
    personas, ticket, imap_server, poll
):
    mail = notification_to("requester@example.com", ticket)
    imap_server.append(
        fixtures.plain(
            "requester@example.com", f"Re: {mail.subject}", " \n", in_reply_to=mail.message_id
        )
    )
    poll()
    assert comments(ticket) == []  # nothing written on the ticket
    row = InboundMessage.objects.get()
    assert (row.outcome, row.ticket, row.detail) == ("rejected", ticket, "The reply has no text.")
    # The email equivalent of a 4xx: the sender is told why, once.
    deliver_pending()
    [told] = written(EmailDelivery.objects.filter(kind="mailin_rejected"))
    assert told.to_address == "requester@example.com"
    assert "The reply has no text." in told.body_text and row.answered
    poll()
    deliver_pending()
    assert EmailDelivery.objects.filter(kind="mailin_rejected").count() == 1
