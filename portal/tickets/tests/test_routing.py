import pytest

from portal.catalog.models import ClassificationMapping, TeamMember
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
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


def test_the_compiled_candidates_statement_answers_as_the_orm_query_does(
    raise_ticket, personas, org
):
    """The candidates are read with a statement compiled once per process; on varied data
    (open and closed loads, tickets of other teams, members never given one, an inactive
    member, a deactivated account, a member of two teams) each team's rows are the ORM
    query's, and the team's id fills both of its places (members and last ticket)."""
    from portal.accounts.models import User
    from portal.tickets import routing

    def user(name, **extra):
        return User.objects.create_user(
            f"{name.split()[0].lower()}@example.com", "x", full_name=name, **extra
        )

    fresh, idle, gone, away = user("Fresh Member"), user("Idle"), user("Gone"), user("Away")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for member in (fresh, gone, away):
        TeamMember.objects.create(team=org.team_a, user=member, role=TeamMember.Role.MEMBER)
    TeamMember.objects.filter(user=away).update(is_active=False)
    # Team B: the agent (a member of both teams) and a lead who never got a ticket.
    TeamMember.objects.create(team=org.team_b, user=personas.agent, role=TeamMember.Role.MEMBER)
    TeamMember.objects.create(team=org.team_b, user=idle, role=TeamMember.Role.LEAD)
    tickets = [raise_ticket() for _ in range(7)]
    plan = [
        (personas.agent, Status.NEW, org.team_a),
        (personas.agent, Status.IN_PROGRESS, org.team_b),
        (personas.agent, Status.CLOSED, org.team_a),
        (personas.lead, Status.RESOLVED, org.team_a),
        (personas.lead, Status.NEW, org.team_b),
        (gone, Status.NEW, org.team_a),
        (away, Status.NEW, org.team_a),
    ]
    for ticket, (assignee, status, team) in zip(tickets, plan, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, status=status, team=team)

    for team in (org.team_a, org.team_b):
        compiled = {tuple(vars(row).values()) for row in routing._candidates(team)}
        assert compiled == set(routing.candidates_query(team.pk))
    by_user = {row.user_id: row for row in routing._candidates(org.team_a)}
    assert set(by_user) == {personas.agent.pk, personas.lead.pk, fresh.pk}
    assert by_user[personas.agent.pk].open_count == 2  # both teams' open tickets
    assert by_user[personas.agent.pk].last_ticket == tickets[2].pk  # team A's, closed too
    assert by_user[fresh.pk].last_ticket is None
    [b_idle, b_agent] = routing._candidates(org.team_b)  # least loaded first
    assert (b_idle.user_id, b_idle.open_count, b_idle.last_ticket) == (idle.pk, 0, None)
    assert b_agent.last_ticket == tickets[1].pk


def test_the_chosen_member_is_told_without_reading_their_account_again(raise_ticket, personas):
    """The candidates' row names the chosen one (name, address): the ticket's assignee is
    built from it, and the "assigned to you" email greets them by name."""
    from portal.notifications.models import EmailDelivery

    ticket = raise_ticket()
    assert ticket.assignee == personas.agent
    assert str(ticket.assignee) == "Agent Persona"
    deliver_pending()
    [mail] = written(EmailDelivery.objects.filter(recipient=personas.agent, kind="ticket_assigned"))
    assert mail.to_address == "agent@example.com"
    assert mail.body_text.startswith("Hello Agent,")


def test_the_compiled_watchers_read_answers_as_the_orm_does(raise_ticket, personas):
    """Active watchers only, per ticket (the ticket's id fills the compiled statement)."""
    from portal.tickets import notify

    first, second, bare = raise_ticket(), raise_ticket(), raise_ticket()
    first.watchers.add(personas.spoc, personas.outsider, personas.admin)
    second.watchers.add(personas.outsider)
    personas.admin.is_active = False
    personas.admin.save(update_fields=["is_active"])
    for ticket in (first, second, bare):
        expected = set(ticket.watchers.filter(is_active=True).values_list("pk", flat=True))
        assert {pk for (pk,) in _compiled_watchers(ticket)} == expected
    assert {pk for (pk,) in _compiled_watchers(first)} == {personas.spoc.pk, personas.outsider.pk}
    assert notify._watchers(bare) == []


def _compiled_watchers(ticket):
    from portal.lib import compiled
    from portal.tickets import notify

    return compiled.rows("notify.watchers", notify._watcher_ids, [ticket.pk])
