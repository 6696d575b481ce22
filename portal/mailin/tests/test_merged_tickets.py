"""Email replies to a merged ticket land on the ticket it was merged into (matching.py),
and who may write there is decided on that ticket."""

import pytest

from portal.mailin.models import InboundMessage
from portal.mailin.tests import fixtures
from portal.notifications.models import EmailDelivery
from portal.testing.notices import deliver_pending
from portal.tickets import access, merge_services, services
from portal.tickets.models import Comment

pytestmark = pytest.mark.django_db


def _merged_notice(address: str) -> EmailDelivery:
    deliver_pending()  # what the worker does within seconds of the event
    return EmailDelivery.objects.get(to_address=address, kind="ticket_merged")


def _reply_to(imap_server, poll, mail: EmailDelivery, sender: str, body: str) -> None:
    imap_server.append(
        fixtures.plain(sender, f"RE: {mail.subject}", body, in_reply_to=mail.message_id)
    )
    poll()


def test_the_requesters_reply_to_the_merge_notice_lands_on_the_survivor(
    personas, org, ticket, imap_server, poll
):
    duplicate = services.ticket_create(
        requester=personas.requester, title="Laptop dead again", description="Same.",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    merge_services.ticket_merge(actor=personas.agent, ticket=duplicate, into_number=ticket.number)
    _reply_to(imap_server, poll, _merged_notice("requester@example.com"),
              "requester@example.com", "Thanks, I will follow the other one.")  # fmt: skip
    [comment] = access.system_read(Comment).filter(ticket=ticket, author=personas.requester)
    assert comment.body == "Thanks, I will follow the other one." and not comment.is_internal
    row = InboundMessage.objects.get()
    assert (row.ticket_id, row.detail) == (ticket.pk, "matched by signed")
    assert not access.system_read(Comment).filter(ticket=duplicate).exists()


def test_a_reply_from_the_merged_tickets_requester_is_a_public_comment_on_the_survivor(
    personas, org, ticket, imap_server, poll
):
    # The outsider's ticket is merged into the requester's: the merge makes the outsider a
    # watcher of it, and watchers read and write on a ticket's public side.
    duplicate = services.ticket_create(
        requester=personas.outsider, title="Printer jam", description="Again.",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    merge_services.ticket_merge(actor=personas.agent, ticket=duplicate, into_number=ticket.number)
    services.comment_add(actor=personas.agent, ticket=ticket, body="Psst", internal=True)
    _reply_to(imap_server, poll, _merged_notice("outsider@example.com"),
              "outsider@example.com", "Any news?")  # fmt: skip
    [comment] = access.system_read(Comment).filter(ticket=ticket, author=personas.outsider)
    assert comment.body == "Any news?" and not comment.is_internal
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.COMMENT
    # The requester reads it; the outsider reads it and the public side, never the notes.
    assert Comment.objects.visible_to(personas.requester, ticket).filter(pk=comment.pk).exists()
    seen = Comment.objects.visible_to(personas.outsider, ticket)
    assert comment in seen and not seen.filter(is_internal=True).exists()


def test_a_reply_from_someone_who_stopped_watching_the_survivor_is_an_internal_note(
    personas, org, ticket, imap_server, poll
):
    duplicate = services.ticket_create(
        requester=personas.outsider, title="Printer jam", description="Again.",
        group=org.group_x, category=org.hardware, subcategory=org.laptop,
    )  # fmt: skip
    merge_services.ticket_merge(actor=personas.agent, ticket=duplicate, into_number=ticket.number)
    services.ticket_watch(actor=personas.outsider, ticket=ticket, watch=False)
    _reply_to(imap_server, poll, _merged_notice("outsider@example.com"),
              "outsider@example.com", "Any news?")  # fmt: skip
    [note] = access.system_read(Comment).filter(ticket=ticket, author=personas.outsider)
    assert note.is_internal and "Any news?" in note.body
    assert not Comment.objects.visible_to(personas.requester, ticket).filter(pk=note.pk).exists()
