"""Watchers read a ticket's public side and write on it, as its requester would, without
the requester's own moves (docs/tickets.md#roles-and-access). The matrices of every page
and action have a watcher column (test_permission_matrix.py, the API's); this module
checks what a watcher is shown and what their comment does."""

import pytest

from portal.testing.notices import deliver_pending
from portal.tickets import access, services
from portal.tickets.errors import TicketClosed
from portal.tickets.models import Comment, Status, Ticket, TicketEvent
from portal.tickets.transitions import REOPEN_WINDOW

pytestmark = pytest.mark.django_db


def _on_hold(personas, ticket) -> Ticket:
    ticket = services.ticket_change_status(
        actor=personas.agent, ticket=ticket, status=Status.ON_HOLD, reason="Which floor?"
    )
    return Ticket.objects.get(pk=ticket.pk)


def test_a_watcher_reads_the_public_comments_and_history_and_none_of_the_internal_ones(
    personas, watcher, client_for, ticket
):
    services.comment_add(actor=personas.agent, ticket=ticket, body="Psst: old model", internal=True)
    services.comment_add(actor=personas.agent, ticket=ticket, body="We are on it")
    html = client_for(watcher).get(f"/tickets/{ticket.number}").content.decode()
    assert "We are on it" in html and "Psst" not in html
    assert access.ticket_roles(watcher, ticket) == {access.WATCHER}
    assert [c.body for c in Comment.objects.visible_to(watcher, ticket)] == ["We are on it"]
    assert not TicketEvent.objects.visible_to(watcher, ticket).filter(is_internal=True).exists()
    # No internal comment box, no status form, no edit: the page offers what they may do.
    assert 'name="internal"' not in html and 'name="status"' not in html


def test_the_watched_ticket_is_in_their_list_search_export_and_watching_view(
    watcher, client_for, ticket, other_ticket
):
    client = client_for(watcher)
    for url in ("/tickets", "/tickets?view=watching", "/tickets?q=laptop"):
        html = client.get(url).content.decode()
        assert ticket.number in html and other_ticket.number not in html, url
    assert ticket.number not in client.get("/tickets?view=mine").content.decode()
    csv = b"".join(client.get("/tickets/export.csv").streaming_content).decode()
    assert ticket.number in csv and other_ticket.number not in csv
    assert list(access.visible_tickets(watcher)) == [ticket]


def test_a_watchers_reply_puts_a_ticket_on_hold_back_in_progress_and_is_no_response(
    personas, watcher, ticket
):
    Ticket.objects.filter(pk=ticket.pk).update(first_response_at=None)
    ticket = _on_hold(personas, ticket)
    Ticket.objects.filter(pk=ticket.pk).update(first_response_at=None)
    comment = services.comment_add(actor=watcher, ticket=ticket, body="Third floor.")
    after = Ticket.objects.get(pk=ticket.pk)
    assert not comment.is_internal and after.status == Status.IN_PROGRESS
    assert after.first_response_at is None  # only the people working it respond
    event = TicketEvent.objects.filter(ticket=ticket, field="status").latest("id")
    assert (event.actor, event.reason, event.is_internal) == (watcher, "A watcher replied.", False)


def test_a_watchers_comment_on_a_closed_ticket_is_refused_and_changes_nothing(
    personas, watcher, client_for, ticket
):
    ticket = services.ticket_change_status(
        actor=personas.agent, ticket=ticket, status=Status.RESOLVED, reason="Replaced."
    )
    ticket = services.ticket_change_status(
        actor=personas.requester, ticket=ticket, status=Status.CLOSED
    )
    before = (Comment.objects.count(), TicketEvent.objects.count())
    with pytest.raises(TicketClosed, match="only its requester's reply reopens it"):
        services.comment_add(actor=watcher, ticket=ticket, body="Still broken")
    response = client_for(watcher).post(f"/tickets/{ticket.number}/comments", {"body": "Hm"})
    assert response.status_code == 409
    assert (Comment.objects.count(), TicketEvent.objects.count()) == before
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    # Within the reopen window the requester's own comment still reopens it.
    assert ticket.closed_at and ticket.resolved_at
    assert ticket.closed_at - ticket.resolved_at < REOPEN_WINDOW
    html = client_for(watcher).get(f"/tickets/{ticket.number}").content.decode()
    assert "follow_up=" in html


def test_a_watchers_comment_reaches_the_people_working_it_and_the_requester(
    personas, watcher, ticket
):
    deliver_pending()
    from portal.notifications.models import Notification

    services.comment_add(actor=watcher, ticket=ticket, body="Same here.")
    deliver_pending()
    told = set(
        Notification.objects.filter(kind="ticket_comment").values_list(
            "recipient__email", flat=True
        )
    )
    assert told == {personas.requester.email, ticket.assignee.email}


def test_stopping_watching_hides_the_ticket_and_leads_back_to_the_list(watcher, client_for, ticket):
    client = client_for(watcher)
    response = client.post(f"/tickets/{ticket.number}/watch", {"watch": "0"})
    assert (response.status_code, response["Location"]) == (302, "/tickets")
    assert client.get(f"/tickets/{ticket.number}").status_code == 404
    assert not access.visible_tickets(watcher).exists()


def test_who_may_see_it_in_sql_counts_the_watcher_as_can_view_does(
    personas, watcher, ticket, other_ticket
):
    from portal.accounts.models import User

    candidates = User.objects.filter(pk__in=[watcher.pk, personas.outsider.pk])
    assert list(access.users_who_can_view(ticket, candidates)) == [watcher]
    assert access.can_view(watcher, ticket) and not access.can_view(watcher, other_ticket)
    assert not access.users_who_can_view(other_ticket, candidates.exclude(pk=personas.outsider.pk))


def test_a_write_finds_exactly_the_tickets_each_person_may_see(
    people, ticket, other_ticket, group_y_ticket
):
    """Writes lock the row by its id and ask `roles_on` (access.get_ticket_for_user with
    write=True); reads filter by `visible_tickets`. The two must agree for everyone."""
    from django.db import transaction

    from portal.tickets.access import NotVisible, get_ticket_for_user, visible_tickets

    inactive = people["agent"].__class__.objects.create_user(
        "gone@example.com", "x", full_name="Gone Agent", is_active=False
    )
    for name, person in {**people, "inactive": inactive}.items():
        for target in (ticket, other_ticket, group_y_ticket):
            sees = visible_tickets(person).filter(pk=target.pk).exists()
            with transaction.atomic():
                try:
                    found = get_ticket_for_user(person, target.number, write=True)
                except NotVisible:
                    found = None
            assert (found is not None) == sees, (name, target.title)
            assert found is None or found.pk == target.pk


def test_the_ticket_page_finds_exactly_the_tickets_each_person_may_see(
    people, ticket, other_ticket, group_y_ticket
):
    """The page reads the row by its id and asks `roles_on` (access.get_ticket_for_page),
    with the watch flag from the same statement; it must agree with `visible_tickets` for
    everyone, the watcher and a deactivated agent included, and say who watches it."""
    from portal.tickets.access import NotVisible, get_ticket_for_page, visible_tickets

    inactive = people["agent"].__class__.objects.create_user(
        "gone@example.com", "x", full_name="Gone Agent", is_active=False
    )
    for name, person in {**people, "inactive": inactive}.items():
        for target in (ticket, other_ticket, group_y_ticket):
            sees = visible_tickets(person).filter(pk=target.pk).exists()
            try:
                found = get_ticket_for_page(person, target.number)
            except NotVisible:
                found = None
            assert (found is not None) == sees, (name, target.title)
            if found is not None:
                assert found.pk == target.pk
                assert found.watched == (name == "watcher" and target == ticket)
