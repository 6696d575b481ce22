"""Merging a duplicate into another ticket: who may (every persona, exact statuses, nothing
changed on a refusal, no title of a ticket they cannot see), what moves (exactly the
duplicate's comments, files and watchers, internal staying internal), what the duplicate
becomes, who is told, email replies following the merge, and two merges at once."""

import itertools

import pytest
from django.db import connection

from portal.notifications.models import EmailDelivery, Notification
from portal.testing.concurrency import run_contested
from portal.testing.notices import deliver_pending
from portal.tickets import access, merge_services, services
from portal.tickets.errors import ActionForbidden, InvalidInput
from portal.tickets.merge_services import MergeRefused
from portal.tickets.models import Attachment, Comment, Status, Ticket, TicketEvent
from portal.tickets.tests.attachment_fixtures import file_row

pytestmark = pytest.mark.django_db

PERSONAS = ["requester", "agent", "lead", "spoc", "admin", "outsider"]
Kind = TicketEvent.Kind


def _row(requester, agent, lead, spoc, admin, outsider):
    return dict(zip(PERSONAS, [requester, agent, lead, spoc, admin, outsider], strict=True))


def _state(*tickets):
    """Everything a merge changes, for 'nothing changed' checks."""
    pks = [t.pk for t in tickets]
    rows = Ticket.objects.filter(pk__in=pks).order_by("pk")
    deliver_pending()
    return (
        list(rows.values_list("pk", "status", "version", "merged_into_id")),
        sorted(Comment.objects.filter(ticket_id__in=pks).values_list("pk", "ticket_id")),
        sorted(Attachment.objects.filter(ticket_id__in=pks).values_list("pk", "ticket_id")),
        sorted(Ticket.watchers.through.objects.filter(ticket_id__in=pks).values_list(
            "ticket_id", "user_id")),
        TicketEvent.objects.filter(kind=Kind.MERGED).count(),
        Notification.objects.filter(kind="ticket_merged").count(),
    )  # fmt: skip


@pytest.fixture
def second(raise_ticket):
    """Another ticket of the requester, team A: the usual duplicate."""
    return raise_ticket(title="Laptop still dead")


# --- who may merge ---------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.parametrize("persona", PERSONAS)
def test_people_working_both_tickets_merge_a_duplicate(
    persona, personas, client_for, ticket, second
):
    expected = _row(403, 302, 302, 302, 302, 404)[persona]
    before = _state(ticket, second)
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{second.number}/merge", {"into": ticket.number, "confirm": "1"}
    )
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/tickets/{ticket.number}"
        second.refresh_from_db()
        assert (second.status, second.merged_into_id) == (Status.CLOSED, ticket.pk)
    else:
        assert _state(ticket, second) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_confirmation_step_changes_nothing(persona, personas, client_for, ticket, second):
    expected = _row(403, 200, 200, 200, 200, 404)[persona]
    before = _state(ticket, second)
    response = client_for(getattr(personas, persona)).post(
        f"/tickets/{second.number}/merge", {"into": ticket.number}
    )
    assert response.status_code == expected
    assert _state(ticket, second) == before
    if expected == 200:
        assert f"Merge {second.number} into {ticket.number}".encode() in response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_merge_across_business_units_needs_access_to_both(
    persona, personas, client_for, ticket, group_y_ticket
):
    # group_y_ticket: the requester's, group Y, no team: among the workers only the admin
    # reaches it; the requester sees both tickets but works neither.
    expected = _row(403, 404, 404, 404, 302, 404)[persona]
    client = client_for(getattr(personas, persona))
    before = _state(ticket, group_y_ticket)
    response = client.post(
        f"/tickets/{ticket.number}/merge", {"into": group_y_ticket.number, "confirm": "1"}
    )
    assert response.status_code == expected
    if expected != 302:
        assert _state(ticket, group_y_ticket) == before
        assert group_y_ticket.title.encode() not in response.content
    if expected == 404:
        missing = client.post(
            f"/tickets/{ticket.number}/merge", {"into": "TKT-999999", "confirm": "1"}
        )
        assert missing.status_code == 404


def test_a_ticket_one_only_raised_cannot_be_merged_into(personas, raise_ticket, ticket, org):
    # The agent raised a ticket in group Y: they see it, but do not work it.
    own = raise_ticket(
        requester=personas.agent, group=org.group_y, category=org.payroll, subcategory=None
    )
    before = _state(ticket, own)
    with pytest.raises(ActionForbidden):
        merge_services.ticket_merge(actor=personas.agent, ticket=ticket, into_number=own.number)
    assert _state(ticket, own) == before


@pytest.mark.parametrize(
    ("into", "status"),
    [("", 400), ("not a number", 400), ("self", 400), ("closed", 409), ("merged", 409)],
)
def test_refusals_say_why_and_change_nothing(
    into, status, personas, client_for, ticket, second, raise_ticket
):
    third = raise_ticket(title="Third")
    if into == "self":
        into = second.number
    elif into == "closed":
        services.ticket_change_status(actor=personas.agent, ticket=third, status=Status.CANCELLED)
        into = third.number
    elif into == "merged":
        merge_services.ticket_merge(actor=personas.agent, ticket=second, into_number=third.number)
        into = ticket.number
    before = _state(ticket, second, third)
    response = client_for(personas.agent).post(
        f"/tickets/{second.number}/merge", {"into": into, "confirm": "1"}
    )
    assert response.status_code == status
    assert b'role="alert"' in response.content
    assert _state(ticket, second, third) == before


# --- what a merge does -----------------------------------------------------------------


def test_merge_moves_exactly_the_duplicates_comments_files_and_watchers(
    personas, ticket, other_ticket, raise_ticket
):
    # The survivor is the outsider's ticket (team A); the duplicate is the requester's.
    duplicate = ticket
    public = services.comment_add(actor=personas.requester, ticket=duplicate, body="Still broken")
    note = services.comment_add(
        actor=personas.agent, ticket=duplicate, body="Known BIOS bug", internal=True
    )
    loose = file_row(duplicate, personas.requester, "photo.txt")
    secret = file_row(duplicate, personas.agent, "bios.txt", comment=note)
    services.ticket_watch(actor=personas.lead, ticket=duplicate)
    own = services.comment_add(actor=personas.outsider, ticket=other_ticket, body="Me too")
    bystander = raise_ticket(title="Unrelated")
    untouched = services.comment_add(actor=personas.requester, ticket=bystander, body="Hi")

    survivor = merge_services.ticket_merge(
        actor=personas.agent, ticket=duplicate, into_number=other_ticket.number
    )

    assert survivor.pk == other_ticket.pk
    moved = dict(Comment.objects.filter(pk__in=[public.pk, note.pk]).values_list("pk", "ticket_id"))
    assert moved == {public.pk: survivor.pk, note.pk: survivor.pk}
    # Internal stays internal: the survivor's requester (the outsider) reads the public
    # comment but neither the note nor its file.
    assert Comment.objects.get(pk=note.pk).is_internal
    seen = set(Comment.objects.visible_to(personas.outsider, survivor).values_list("pk", flat=True))
    assert public.pk in seen and note.pk not in seen
    files = Attachment.objects.visible_to(personas.outsider, survivor)
    assert set(files.values_list("pk", flat=True)) == {loose.pk}
    assert set(Attachment.objects.filter(ticket=survivor).values_list("pk", flat=True)) == {
        loose.pk,
        secret.pk,
    }
    # The description comes along as an internal note; nothing else was added or moved.
    carried = Comment.objects.filter(ticket=survivor).exclude(pk__in=[public.pk, note.pk, own.pk])
    assert [(c.is_internal, c.author_id) for c in carried] == [(True, personas.agent.pk)]
    assert duplicate.description in carried[0].body
    assert Comment.objects.get(pk=untouched.pk).ticket_id == bystander.pk
    assert not Comment.objects.filter(ticket=duplicate).exists()
    # Watchers: the duplicate's, and its requester; the survivor's requester is not added.
    watchers = set(survivor.watchers.values_list("pk", flat=True))
    assert watchers == {personas.lead.pk, personas.requester.pk}


def test_the_merged_ticket_is_closed_with_a_pointer_and_both_histories_say_who(
    personas, ticket, second
):
    version = second.version
    merge_services.ticket_merge(actor=personas.lead, ticket=second, into_number=ticket.number)
    second.refresh_from_db()
    assert second.status == Status.CLOSED and second.closed_at is not None
    assert second.merged_into_id == ticket.pk and second.version == version + 1
    duplicate_events = TicketEvent.objects.filter(ticket=second, actor=personas.lead)
    assert set(duplicate_events.values_list("kind", "new_value", "reason")) == {
        (Kind.STATUS, Status.CLOSED, f"Merged into {ticket.number}."),
        (Kind.MERGED, ticket.number, ""),
    }
    survivor_event = TicketEvent.objects.get(ticket=ticket, kind=Kind.MERGED)
    assert (survivor_event.actor_id, survivor_event.old_value) == (personas.lead.pk, second.number)
    assert survivor_event.reason == "Moved 0 comments, 0 files and 0 watchers."
    assert not survivor_event.is_internal  # the requester reads who merged what


def test_the_merged_tickets_requester_is_told_by_notice_and_email(personas, ticket, other_ticket):
    merge_services.ticket_merge(
        actor=personas.agent, ticket=other_ticket, into_number=ticket.number
    )
    deliver_pending()
    notice = Notification.objects.get(kind="ticket_merged")
    assert notice.recipient_id == personas.outsider.pk
    assert notice.text == (
        f"{other_ticket.number} was merged into {ticket.number}: {other_ticket.title}"
    )
    mail = EmailDelivery.objects.get(kind="ticket_merged")
    assert mail.recipient_id == personas.outsider.pk
    # Their link is their own ticket, which names the survivor: they watch the survivor
    # now, but may stop (and then not see it), so its title is not in the mail.
    assert ticket.title not in mail.body_text


def test_the_pages_show_where_a_ticket_went_and_what_was_merged_in(
    personas, client_for, ticket, other_ticket
):
    merge_services.ticket_merge(
        actor=personas.agent, ticket=other_ticket, into_number=ticket.number
    )
    worker = client_for(personas.agent)
    duplicate_page = worker.get(f"/tickets/{other_ticket.number}").content.decode()
    assert f'merged into <a href="/tickets/{ticket.number}">' in duplicate_page
    survivor_page = worker.get(f"/tickets/{ticket.number}").content.decode()
    assert "Merged into this ticket" in survivor_page and other_ticket.number in survivor_page
    # The outsider raised the duplicate and was made a watcher of the survivor: they follow
    # the pointer there. Once they stop watching it, the survivor is not theirs to see: no
    # title, no link.
    outsider = client_for(personas.outsider)
    outsider_page = outsider.get(f"/tickets/{other_ticket.number}").content.decode()
    assert f'merged into <a href="/tickets/{ticket.number}">' in outsider_page
    assert outsider.get(f"/tickets/{ticket.number}").status_code == 200
    services.ticket_watch(actor=personas.outsider, ticket=ticket, watch=False)
    outsider_page = outsider.get(f"/tickets/{other_ticket.number}").content.decode()
    assert "merged into another ticket" in outsider_page
    assert ticket.title not in outsider_page


# --- the picker ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_picker_lists_only_open_tickets_one_works(
    persona, personas, client_for, ticket, second, group_y_ticket
):
    expected = _row(403, 200, 200, 200, 200, 404)[persona]
    response = client_for(getattr(personas, persona)).get(
        f"/tickets/{second.number}/merge-targets", {"q": ""}
    )
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        assert ticket.number in body and f'value="{second.number}"' not in body
        # group Y's ticket (same requester) is listed only for the admin, who works it.
        assert (f'value="{group_y_ticket.number}"' in body) == (persona == "admin")


def test_the_picker_finds_by_number_only_tickets_one_works(
    personas, client_for, ticket, second, group_y_ticket
):
    client = client_for(personas.agent)
    found = client.get(f"/tickets/{second.number}/merge-targets", {"q": ticket.number})
    assert f'value="{ticket.number}"'.encode() in found.content
    hidden = client.get(f"/tickets/{second.number}/merge-targets", {"q": group_y_ticket.number})
    assert hidden.status_code == 200
    assert group_y_ticket.title.encode() not in hidden.content
    assert f'value="{group_y_ticket.number}"'.encode() not in hidden.content


# --- concurrency -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs overlapping transactions: SQLite serialises writers at BEGIN",
)
def test_two_merges_of_the_same_pair_at_once_merge_once_without_deadlock(personas, raise_ticket):
    first = raise_ticket(title="A")
    second = raise_ticket(title="B")
    services.comment_add(actor=personas.requester, ticket=first, body="on A")
    services.comment_add(actor=personas.requester, ticket=second, body="on B")
    # One thread merges A into B, the other B into A; both read the pair before either
    # locks, so they contend for the rows.
    directions = itertools.cycle([(first, second), (second, first)])

    def job():
        duplicate, survivor = next(directions)
        try:
            merge_services.ticket_merge(
                actor=personas.agent, ticket=duplicate, into_number=survivor.number
            )
        except MergeRefused:
            return "refused"
        return "merged"

    results = run_contested(job, module=merge_services, reader="_pair")
    assert sorted(results) == ["merged", "refused"]
    rows = {t.pk: t for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])}
    merged = [t for t in rows.values() if t.merged_into_id is not None]
    assert len(merged) == 1
    survivor = rows[merged[0].merged_into_id]
    assert survivor.status != Status.CLOSED
    # Every comment is on the survivor once: nothing moved twice or got lost.
    assert Comment.objects.public().filter(ticket=survivor).count() == 2
    assert TicketEvent.objects.filter(kind=Kind.MERGED).count() == 2


def test_a_merge_into_itself_is_refused(personas, ticket):
    with pytest.raises(InvalidInput):
        merge_services.ticket_merge(actor=personas.agent, ticket=ticket, into_number=ticket.number)
    assert access.system_read(Ticket).get(pk=ticket.pk).status == Status.NEW
