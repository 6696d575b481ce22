import pytest

from portal.catalog.models import ClassificationMapping, TeamMember
from portal.tickets.models import Status, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_mapping_sends_the_ticket_to_the_mapped_team_with_the_reason_in_history(ticket, org):
    assert ticket.team == org.team_a
    routed = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ROUTED)
    assert routed.new_value == "Team A"
    assert routed.actor is None
    assert "Classification mapping" in routed.reason


def test_least_loaded_member_gets_the_ticket(raise_ticket, personas):
    # The agent already holds two open tickets; the lead holds one.
    first, second, third = raise_ticket(), raise_ticket(), raise_ticket()
    Ticket.objects.filter(pk__in=[first.pk, second.pk]).update(assignee=personas.agent)
    Ticket.objects.filter(pk=third.pk).update(assignee=personas.lead)

    assert raise_ticket().assignee == personas.lead


def test_closed_tickets_do_not_count_towards_load(raise_ticket, personas):
    done = [raise_ticket(), raise_ticket()]
    Ticket.objects.filter(pk__in=[t.pk for t in done]).update(
        assignee=personas.agent, status=Status.CLOSED
    )
    busy = raise_ticket()
    Ticket.objects.filter(pk=busy.pk).update(assignee=personas.lead)

    assert raise_ticket().assignee == personas.agent


def test_equally_loaded_members_take_turns(raise_ticket, personas):
    assignees = []
    for _ in range(4):
        ticket = raise_ticket()
        assignees.append(ticket.assignee)
        # Resolve it so load stays equal and only the turn order decides.
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED)

    assert assignees[0] != assignees[1]
    assert assignees[0] == assignees[2]
    assert assignees[1] == assignees[3]
    assert {assignees[0], assignees[1]} == {personas.agent, personas.lead}
    event = TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNED).last()
    assert "equally loaded" in event.reason


def test_inactive_member_is_skipped(raise_ticket, personas, org):
    TeamMember.objects.filter(team=org.team_a, user=personas.agent).update(is_active=False)
    assert {raise_ticket().assignee for _ in range(3)} == {personas.lead}


def test_deactivated_account_is_skipped(raise_ticket, personas):
    personas.lead.is_active = False
    personas.lead.save(update_fields=["is_active"])
    assert {raise_ticket().assignee for _ in range(3)} == {personas.agent}


def test_without_mapping_the_ticket_waits_unassigned_for_the_spoc(raise_ticket, org):
    ClassificationMapping.objects.all().delete()
    ticket = raise_ticket()
    assert ticket.team is None
    assert ticket.assignee is None
    routed = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ROUTED)
    assert routed.reason == "No team is mapped to this classification."
    waiting = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.WAITING)
    assert waiting.new_value == "Spoc Persona"
    assert waiting.reason == (
        "No team is mapped to this classification; waiting for the SPOC of Group X "
        "(Spoc Persona), who was told."
    )
    assert not TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED).exists()


def test_team_without_active_members_leaves_the_ticket_in_its_queue(raise_ticket, org):
    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    ticket = raise_ticket()
    assert ticket.team == org.team_a
    assert ticket.assignee is None


def test_subcategory_mapping_wins_over_any_subcategory(raise_ticket, org):
    ClassificationMapping.objects.create(
        category=org.hardware, subcategory=org.printer, team=org.team_b, default_priority="high"
    )
    ticket = raise_ticket(subcategory=org.printer)
    assert ticket.team == org.team_b
    assert ticket.priority == "high"
