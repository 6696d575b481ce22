"""Services: creation, idempotency, assignment, team moves, edits and their refusals."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.notifications.models import PendingNotice
from portal.tickets import services
from portal.tickets.errors import ActionForbidden, EditConflict, InvalidInput
from portal.tickets.models import Comment, Status, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_ticket_numbers_read_like_tkt_and_six_digits(ticket):
    assert ticket.number == f"TKT-{ticket.pk:06d}"


def test_creation_is_recorded_with_the_requester_as_actor(ticket, personas):
    created = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.CREATED)
    assert created.actor == personas.requester


def test_the_same_form_submitted_twice_creates_one_ticket(raise_ticket):
    key = uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    second = raise_ticket(idempotency_key=key)
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1


def test_the_same_key_from_two_people_creates_two_tickets(raise_ticket, personas):
    key = uuid.uuid4()
    raise_ticket(idempotency_key=key)
    raise_ticket(requester=personas.outsider, idempotency_key=key)
    assert Ticket.objects.count() == 2


def test_a_resent_form_takes_no_ticket_number_and_leaves_nothing_behind(raise_ticket, personas):
    """The INSERT that finds the key held writes nothing and takes no id (services._insert):
    the next ticket's number follows the first's, and the resend's routing, history and
    notices are undone."""
    key = uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    events, notices = TicketEvent.objects.count(), PendingNotice.objects.count()
    for text_key in (key, str(key)):  # a form's key may arrive as text
        with CaptureQueriesContext(connection) as queries:
            assert raise_ticket(idempotency_key=text_key).pk == first.pk
        [insert] = [
            q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "tickets_ticket"')
        ]
        assert "NOT EXISTS" in insert  # found held by the INSERT, not refused by the index
    assert (TicketEvent.objects.count(), PendingNotice.objects.count()) == (events, notices)
    after = raise_ticket(idempotency_key=uuid.uuid4())
    # No id taken: on PostgreSQL an INSERT refused by the unique index would take one.
    assert after.pk == first.pk + 1


def test_a_key_whose_ticket_is_gone_before_it_is_read_raises_the_ticket_again(
    raise_ticket, monkeypatch
):
    """Between the INSERT finding the key held and the read of that ticket, the key may
    have gone (an erasure): the send is then the first again, not an error."""
    key = uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    read = services._sent_with

    def gone_meanwhile(requester, sent_key):
        Ticket.objects.filter(pk=first.pk).update(idempotency_key=None)
        monkeypatch.setattr(services, "_sent_with", read)
        return read(requester, sent_key)

    monkeypatch.setattr(services, "_sent_with", gone_meanwhile)
    again = raise_ticket(idempotency_key=key)
    assert again.pk != first.pk and again.idempotency_key == key


def test_a_key_is_held_for_its_requester_only(raise_ticket, personas):
    key, other = uuid.uuid4(), uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    second = raise_ticket(requester=personas.outsider, idempotency_key=other)
    assert raise_ticket(requester=personas.outsider, idempotency_key=key).pk not in {
        first.pk,
        second.pk,
    }
    assert raise_ticket(idempotency_key=other).pk not in {first.pk, second.pk}
    assert raise_ticket(requester=personas.outsider, idempotency_key=other).pk == second.pk


def test_category_of_another_group_is_refused(raise_ticket, org):
    with pytest.raises(InvalidInput, match="does not belong"):
        raise_ticket(group=org.group_y)
    assert not Ticket.objects.exists()


def test_blank_title_is_refused(raise_ticket):
    with pytest.raises(InvalidInput, match="Title"):
        raise_ticket(title="   ")


def test_priority_defaults_to_medium_without_a_mapping_default(ticket):
    assert ticket.priority == "medium"


def test_agent_takes_a_ticket_and_it_moves_to_in_progress(raise_ticket, personas):
    ticket = raise_ticket()
    taker = personas.lead if ticket.assignee == personas.agent else personas.agent
    services.ticket_take(actor=taker, ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (taker, Status.IN_PROGRESS)
    assert ticket.first_response_at is not None


def test_spoc_cannot_take_as_they_are_not_in_the_team(ticket, personas):
    with pytest.raises(ActionForbidden, match="members of the ticket's team"):
        services.ticket_take(actor=personas.spoc, ticket=ticket)


def test_lead_assigns_to_a_team_member(ticket, personas):
    target = personas.lead if ticket.assignee == personas.agent else personas.agent
    services.ticket_assign(actor=personas.lead, ticket=ticket, assignee=target)
    ticket.refresh_from_db()
    assert ticket.assignee == target


def test_agent_cannot_assign(ticket, personas):
    with pytest.raises(ActionForbidden):
        services.ticket_assign(actor=personas.agent, ticket=ticket, assignee=None)


def test_assigning_someone_outside_the_team_is_refused(ticket, personas):
    with pytest.raises(InvalidInput, match="not an active member"):
        services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=personas.outsider)


def test_moving_team_needs_a_reason_and_records_it(ticket, personas, org):
    with pytest.raises(InvalidInput):
        services.ticket_move_team(actor=personas.agent, ticket=ticket, team=org.team_b, reason="")
    services.ticket_move_team(
        actor=personas.agent, ticket=ticket, team=org.team_b, reason="Payroll issue, not ours"
    )
    ticket.refresh_from_db()
    assert ticket.team == org.team_b
    assert ticket.assignee is None  # team B has no members
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.TEAM)
    assert (event.old_value, event.new_value) == ("Team A", "Team B")
    assert event.reason == "Payroll issue, not ours"


def test_requester_cannot_move_the_team(ticket, personas, org):
    with pytest.raises(ActionForbidden):
        services.ticket_move_team(
            actor=personas.requester, ticket=ticket, team=org.team_b, reason="Please"
        )


def test_edit_records_every_changed_field(ticket, personas, org):
    services.ticket_update(
        actor=personas.agent,
        ticket=ticket,
        expected_version=ticket.version,
        title="Laptop dead",
        priority="urgent",
        subcategory=org.printer,
    )
    fields = set(
        TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.EDITED).values_list(
            "field", flat=True
        )
    )
    assert fields == {"title", "priority", "classification"}
    ticket.refresh_from_db()
    assert (ticket.title, ticket.priority, ticket.subcategory) == (
        "Laptop dead",
        "urgent",
        org.printer,
    )


def test_requester_cannot_edit(ticket, personas):
    with pytest.raises(ActionForbidden):
        services.ticket_update(
            actor=personas.requester, ticket=ticket, expected_version=ticket.version, title="x"
        )


def test_stale_edit_is_a_conflict_listing_what_changed_and_writes_nothing(ticket, personas):
    seen = ticket.version
    services.ticket_update(actor=personas.lead, ticket=ticket, expected_version=seen, title="A")
    before = TicketEvent.objects.count()

    with pytest.raises(EditConflict) as conflict:
        services.ticket_update(
            actor=personas.agent, ticket=ticket, expected_version=seen, title="B"
        )

    assert [(c.field, c.new_value) for c in conflict.value.changes] == [("title", "A")]
    assert conflict.value.status_code == 409
    ticket.refresh_from_db()
    assert ticket.title == "A"
    assert TicketEvent.objects.count() == before


def test_requester_cannot_add_internal_comments(ticket, personas):
    with pytest.raises(ActionForbidden):
        services.comment_add(actor=personas.requester, ticket=ticket, body="x", internal=True)
    assert not Comment.objects.exists()


def test_first_public_comment_by_a_worker_starts_the_response_clock(ticket, personas):
    services.comment_add(actor=personas.agent, ticket=ticket, body="On it", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    services.comment_add(actor=personas.agent, ticket=ticket, body="Looking now")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_outsider_acting_on_a_ticket_gets_not_found(ticket, personas):
    from django.http import Http404

    with pytest.raises(Http404):
        services.comment_add(actor=personas.outsider, ticket=ticket, body="hello")


def test_a_resubmitted_form_writes_no_history_and_tells_nobody_again(
    raise_ticket, django_capture_on_commit_callbacks
):
    from portal.notifications.models import EmailDelivery, Notification

    key = uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    before = (
        TicketEvent.objects.count(),
        Notification.objects.count(),
        EmailDelivery.objects.count(),
    )
    with django_capture_on_commit_callbacks() as after_commit:
        assert raise_ticket(idempotency_key=key).pk == first.pk
    after = (
        TicketEvent.objects.count(),
        Notification.objects.count(),
        EmailDelivery.objects.count(),
    )
    assert after == before
    assert after_commit == []  # no task, mail or webhook waits for a commit either
    # The resend took no ticket number: the next ticket is the next number.
    assert raise_ticket().pk == first.pk + 1


def test_the_routed_assignee_is_the_account_routing_read(raise_ticket, personas):
    ticket = raise_ticket()
    # Set from the team's load query (no second read), and the same person as in the row.
    assert "assignee" in ticket._state.fields_cache
    assert ticket.assignee == Ticket.objects.get(pk=ticket.pk).assignee
    assert ticket.assignee.email in {personas.agent.email, personas.lead.email}
