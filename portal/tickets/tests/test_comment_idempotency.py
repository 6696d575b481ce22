"""A comment sent twice (a resend after the answer was lost, a double click, an app server
that died mid-post) is written once: the form carries an idempotency key, and the same key
with the same comment returns the first (services.comment_add; the API's test is in
portal/api/tests/test_tickets.py, the two-threads one in test_concurrency.py)."""

import re

import pytest

from portal.tickets import services
from portal.tickets.errors import IdempotencyConflict
from portal.tickets.models import Comment, TicketEvent
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import stored_keys, upload

pytestmark = pytest.mark.django_db


def _key(client, ticket) -> str:
    html = client.get(f"/tickets/{ticket.number}").content.decode()
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def test_the_comment_form_sent_twice_adds_one_comment(personas, client_for, ticket):
    client = client_for(personas.requester)
    key = _key(client, ticket)
    data = {"body": "Still beeping.", "idempotency_key": key}
    first = client.post(f"/tickets/{ticket.number}/comments", data)
    events = TicketEvent.objects.count()
    again = client.post(f"/tickets/{ticket.number}/comments", data)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == f"/tickets/{ticket.number}"
    assert list(Comment.objects.filter(ticket=ticket).values_list("body", flat=True)) == [
        "Still beeping."
    ]
    assert TicketEvent.objects.count() == events  # no second history row, no second notice
    # The page after it carries a new key: the next comment is a comment of its own.
    assert _key(client, ticket) != key


def test_the_key_of_a_sent_comment_with_another_text_is_refused_and_changes_nothing(
    personas, client_for, ticket
):
    client = client_for(personas.agent)
    key = _key(client, ticket)
    client.post(f"/tickets/{ticket.number}/comments", {"body": "On it", "idempotency_key": key})
    before = (Comment.objects.count(), TicketEvent.objects.count())
    response = client.post(
        f"/tickets/{ticket.number}/comments",
        {"body": "Different", "internal": "on", "idempotency_key": key},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already used" in html and "Different" in html  # what they typed is kept
    assert (Comment.objects.count(), TicketEvent.objects.count()) == before
    # ...under a fresh key: sending the form as shown adds the comment.
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    assert fresh != key
    resent = client.post(
        f"/tickets/{ticket.number}/comments",
        {"body": "Different", "internal": "on", "idempotency_key": fresh},
    )
    assert resent.status_code == 302 and Comment.objects.count() == before[0] + 1


def test_the_service_returns_the_first_comment_and_refuses_the_key_elsewhere(
    personas, ticket, other_ticket
):
    import uuid

    key = uuid.uuid4()
    first = services.comment_add(actor=personas.agent, ticket=ticket, body="A", idempotency_key=key)
    again = services.comment_add(actor=personas.agent, ticket=ticket, body="A", idempotency_key=key)
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        services.comment_add(
            actor=personas.agent, ticket=other_ticket, body="A", idempotency_key=key
        )
    # Keys are per author: someone else's comment with the same key is theirs.
    other = services.comment_add(
        actor=personas.requester, ticket=ticket, body="A", idempotency_key=key
    )
    assert other.pk != first.pk
    assert Comment.objects.count() == 2


files_storage = attachment_fixtures.files_storage  # the fixture, for this module


def test_a_comment_with_a_file_sent_twice_stores_the_file_once(
    personas, client_for, ticket, files_storage
):
    client = client_for(personas.agent)
    key = _key(client, ticket)
    for _send in range(2):
        response = client.post(
            f"/tickets/{ticket.number}/comments",
            {"body": "Log attached.", "idempotency_key": key,
             "files": [upload("boot.log", b"POST error 3 beeps\n")]},
        )  # fmt: skip
        assert response.status_code == 302
    comment = Comment.objects.get(ticket=ticket)
    assert comment.attachments.count() == 1
    # The resend found the first comment before uploading anything.
    assert len(stored_keys(files_storage)) == 1


def test_a_resend_writes_nothing_and_tells_nobody_again(
    personas, ticket, django_capture_on_commit_callbacks
):
    import uuid

    from portal.notifications.models import EmailDelivery, Notification

    key = uuid.uuid4()
    first = services.comment_add(actor=personas.agent, ticket=ticket, body="A", idempotency_key=key)
    before = (
        Comment.objects.count(), TicketEvent.objects.count(), Notification.objects.count(),
        EmailDelivery.objects.count(),
    )  # fmt: skip
    with django_capture_on_commit_callbacks() as after_commit:
        added = services.comment_add_or_replay(
            actor=personas.agent, ticket=ticket, body="  A  ", idempotency_key=key
        )
    assert after_commit == []  # no task, mail or webhook waits for a commit either
    assert added.replayed and added.comment.pk == first.pk
    assert added.comment.ticket.pk == ticket.pk  # read for the caller, as a new comment's
    after = (
        Comment.objects.count(), TicketEvent.objects.count(), Notification.objects.count(),
        EmailDelivery.objects.count(),
    )  # fmt: skip
    assert after == before


def test_a_resend_after_the_ticket_closed_is_the_first_comment_not_a_refusal(personas, ticket):
    import uuid

    from portal.tickets.errors import TicketClosed
    from portal.tickets.models import Status

    key = uuid.uuid4()
    first = services.comment_add(
        actor=personas.requester, ticket=ticket, body="Any news?", idempotency_key=key
    )
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status=Status.CANCELLED)
    again = services.comment_add(
        actor=personas.requester, ticket=ticket, body="Any news?", idempotency_key=key
    )
    assert again.pk == first.pk
    # A new comment there is still refused.
    with pytest.raises(TicketClosed):
        services.comment_add(
            actor=personas.requester, ticket=ticket, body="Hello?", idempotency_key=uuid.uuid4()
        )
