"""The routing chain: team members → the team's leads → the group's SPOCs → triage.

Each step is checked for where the ticket lands, the history event and its reason, and
who is told what (in-app rows, and mail read from a real SMTP server where the words
matter). Re-routing when a member leaves or the last SPOC goes is checked the same way.
"""

import pytest

from portal.accounts.models import User
from portal.catalog import services as catalog
from portal.catalog.models import ClassificationMapping, TeamMember
from portal.notifications import delivery
from portal.notifications.models import Notification
from portal.testing.notices import deliver_pending
from portal.tickets import routing, services
from portal.tickets.models import Status, TicketEvent
from portal.tickets.tests.test_notify import told

pytestmark = pytest.mark.django_db
Kind = TicketEvent.Kind


def events(ticket, *kinds) -> list[tuple[str, str, str]]:
    rows = TicketEvent.objects.filter(ticket=ticket, kind__in=kinds).order_by("id")
    return [(row.kind, row.new_value, row.reason) for row in rows]


def on_triage(user: User) -> User:
    user.on_triage_duty = True
    user.save(update_fields=["on_triage_duty"])
    return user


@pytest.fixture
def lead_only(org, personas):
    """Team A with its lead and no other active member."""
    TeamMember.objects.filter(team=org.team_a, user=personas.agent).update(is_active=False)
    return org.team_a


@pytest.fixture
def group_y_routed(org):
    """Payroll (group Y, no SPOC) mapped to team B, which has nobody in it."""
    ClassificationMapping.objects.create(category=org.payroll, team=org.team_b)


def raise_in_y(raise_ticket, org):
    return raise_ticket(group=org.group_y, category=org.payroll, subcategory=None)


def test_a_team_with_only_its_lead_assigns_the_lead_and_tells_them_why(
    raise_ticket, lead_only, personas, smtp_server
):
    ticket = raise_ticket()
    assert ticket.assignee == personas.lead
    reason = "Team A has no active members besides its lead; assigned to the lead Lead Persona."
    assert events(ticket, Kind.ASSIGNED, Kind.WAITING) == [(Kind.ASSIGNED, "Lead Persona", reason)]
    assert told("ticket_assigned") == {
        "lead@example.com": [f"{ticket.number} is assigned to you: Laptop will not start"]
    }
    assert told("ticket_created") == {
        "spoc@example.com": [f"New ticket {ticket.number}: Laptop will not start"]
    }
    delivery.sweep()
    [mail] = smtp_server.messages_to("lead@example.com")
    assert f"Reason: {reason}" in mail.get_body(("plain",)).get_content()


def test_a_team_with_nobody_waits_for_the_spoc_who_is_told_why(
    raise_ticket, org, personas, smtp_server
):
    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    ticket = raise_ticket()
    assert (ticket.team, ticket.assignee) == (org.team_a, None)
    assert events(ticket, Kind.ASSIGNED, Kind.WAITING) == [
        (
            Kind.WAITING,
            "Spoc Persona",
            "Team A has no active members; waiting for the SPOC of Group X (Spoc Persona), "
            "who was told.",
        )
    ]
    # The SPOC hears once, why it reached them; not a routine "New ticket" as well.
    assert told() == {
        "spoc@example.com": [
            f"{ticket.number} is waiting for you (Team A has no active members): "
            "Laptop will not start"
        ],
        "requester@example.com": [
            f"We received your ticket {ticket.number}: Laptop will not start"
        ],
    }
    delivery.sweep()
    [spoc_mail] = smtp_server.messages_to("spoc@example.com")
    body = spoc_mail.get_body(("plain",)).get_content()
    assert "Team A has no active members." in body
    assert "You are told as a SPOC of Group X" in body
    [confirmation] = smtp_server.messages_to("requester@example.com")
    assert (
        "Nobody in Team A can take it yet, so the SPOC (Spoc Persona) will find someone; "
        "they have been told." in confirmation.get_body(("plain",)).get_content()
    )


def test_the_requesters_confirmation_names_who_has_the_ticket(raise_ticket, smtp_server):
    ticket = raise_ticket()
    deliver_pending()
    delivery.sweep()
    [confirmation] = smtp_server.messages_to("requester@example.com")
    text = confirmation.get_body(("plain",)).get_content()
    assert f"{ticket.assignee} (Team A) has it and will work on it." in text


def test_a_group_without_a_spoc_goes_to_the_admins_on_triage_duty(
    raise_ticket, org, personas, group_y_routed
):
    second = on_triage(
        User.objects.create_user("ops@example.com", "x", full_name="Ops Admin", is_staff=True)
    )
    on_triage(personas.admin)
    ticket = raise_in_y(raise_ticket, org)
    assert (ticket.team, ticket.assignee) == (org.team_b, None)
    why = "Team B has no active members, and Group Y has no SPOC"
    assert events(ticket, Kind.WAITING) == [
        (
            Kind.WAITING,
            "Admin Persona and Ops Admin",
            f"{why}; waiting for the admins on triage duty (Admin Persona and Ops Admin), "
            "who were told.",
        )
    ]
    text = f"{ticket.number} is waiting for you ({why}): Laptop will not start"
    assert told("ticket_waiting") == {"admin@example.com": [text], second.email: [text]}


def test_admins_off_duty_and_deactivated_are_not_triage(raise_ticket, org, personas):
    on_triage(User.objects.create_user("gone@example.com", "x", is_staff=True, is_active=False))
    on_triage(User.objects.create_user("notadmin@example.com", "x"))
    ticket = raise_in_y(raise_ticket, org)
    assert events(ticket, Kind.WAITING) == [
        (
            Kind.WAITING,
            "",
            "No team is mapped to this classification, and Group Y has no SPOC, and no admin "
            "is on triage duty; nobody could be told.",
        )
    ]
    assert set(told()) == {"requester@example.com"}
    assert Notification.objects.filter(kind="ticket_waiting").count() == 0


def test_walking_the_chain_costs_one_query_per_step_reached(
    org, personas, lead_only, django_assert_num_queries
):
    # Members (1).
    with django_assert_num_queries(1):
        assert routing.holder_for(team=org.team_a, group=org.group_x).step == routing.Step.LEAD
    # Members (1) + the group's SPOCs (1) + the admins on triage duty (1).
    on_triage(personas.admin)
    with django_assert_num_queries(3):
        holder = routing.holder_for(team=org.team_b, group=org.group_y)
    assert holder.step == routing.Step.TRIAGE and holder.told == (personas.admin,)


def test_moving_to_a_team_with_nobody_waits_for_the_spoc_who_is_told(raise_ticket, org, personas):
    ticket = raise_ticket()
    previous = ticket.assignee
    deliver_pending()
    Notification.objects.all().delete()
    services.ticket_move_team(actor=personas.spoc, ticket=ticket, team=org.team_b, reason="Theirs")
    ticket.refresh_from_db()
    assert ticket.assignee is None
    [(kind, new, reason)] = events(ticket, Kind.WAITING)
    assert reason.startswith("Team B has no active members; waiting for the SPOC of Group X")
    # The SPOC moved it: the chain lands on them, and the actor is never told; the previous
    # holder learns it is no longer theirs.
    assert told() == {
        previous.email: [
            f"{ticket.number} is no longer yours (now waiting in Team B): {ticket.title}"
        ]
    }


# --- Re-routing when people go away ---------------------------------------------------------


def test_a_member_leaving_hands_their_open_tickets_to_the_rest_of_the_team(
    raise_ticket, org, personas
):
    tickets = [raise_ticket() for _ in range(2)]
    held = [t for t in tickets if t.assignee == personas.agent]
    assert held
    deliver_pending()
    Notification.objects.all().delete()
    member = TeamMember.objects.get(team=org.team_a, user=personas.agent)
    catalog.team_member_deactivate(member=member)
    for ticket in held:
        ticket.refresh_from_db()
        assert ticket.assignee == personas.lead
        [(kind, new, reason)] = events(ticket, Kind.ASSIGNED)[-1:]
        assert (kind, new) == (Kind.ASSIGNED, "Lead Persona")
        assert reason.startswith("Agent Persona left Team A. Team A has no active members")
    assert told("ticket_assigned") == {
        "lead@example.com": [f"{t.number} is assigned to you: {t.title}" for t in held]
    }


def test_closed_tickets_stay_with_whoever_closed_them(raise_ticket, org, personas):
    ticket = raise_ticket()
    holder = ticket.assignee
    services.ticket_change_status(actor=holder, ticket=ticket, status=Status.IN_PROGRESS)
    services.ticket_change_status(actor=holder, ticket=ticket, status=Status.CANCELLED)
    catalog.team_member_remove(member=TeamMember.objects.get(team=org.team_a, user=holder))
    ticket.refresh_from_db()
    assert ticket.assignee == holder


def test_the_last_member_leaving_sends_waiting_tickets_to_the_spoc(
    raise_ticket, org, personas, lead_only
):
    ticket = raise_ticket()
    assert ticket.assignee == personas.lead
    deliver_pending()
    Notification.objects.all().delete()
    catalog.team_member_remove(member=TeamMember.objects.get(team=org.team_a, user=personas.lead))
    ticket.refresh_from_db()
    assert ticket.assignee is None
    [(kind, new, reason)] = events(ticket, Kind.WAITING)
    assert (kind, new) == (Kind.WAITING, "Spoc Persona")
    assert reason == (
        "Lead Persona left Team A. Team A has no active members; waiting for the SPOC of "
        "Group X (Spoc Persona), who was told."
    )
    assert told() == {
        "spoc@example.com": [
            f"{ticket.number} is waiting for you (Team A has no active members): {ticket.title}"
        ]
    }


def test_removing_the_last_spoc_sends_their_waiting_tickets_to_triage(raise_ticket, org, personas):
    on_triage(personas.admin)
    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    waiting = raise_ticket()
    deliver_pending()
    Notification.objects.all().delete()
    catalog.group_update(group=org.group_x, name="Group X", code="X", spocs=[])
    waiting.refresh_from_db()
    [_, (kind, new, reason)] = events(waiting, Kind.WAITING)
    assert (kind, new) == (Kind.WAITING, "Admin Persona")
    assert reason == (
        "Spoc Persona is no longer SPOC of Group X. Team A has no active members, and Group X "
        "has no SPOC; waiting for the admin on triage duty (Admin Persona), who was told."
    )
    assert told() == {
        "admin@example.com": [
            f"{waiting.number} is waiting for you (Team A has no active members, and Group X "
            f"has no SPOC): {waiting.title}"
        ]
    }


def test_replacing_a_spoc_tells_the_new_one_about_waiting_tickets(raise_ticket, org, personas):
    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    waiting = raise_ticket()
    deliver_pending()
    Notification.objects.all().delete()
    catalog.group_update(group=org.group_x, name="Group X", code="X", spocs=[personas.outsider])
    [_, (_, new, reason)] = events(waiting, Kind.WAITING)
    assert new == "Outsider Persona"
    assert reason.startswith("Spoc Persona is no longer SPOC of Group X. Team A has no active")
    assert set(told("ticket_waiting")) == {"outsider@example.com"}
    # Saving the same list again removes nobody: nothing moves.
    catalog.group_update(group=org.group_x, name="Group X", code="X", spocs=[personas.outsider])
    assert len(events(waiting, Kind.WAITING)) == 2


def test_a_failed_master_data_change_reroutes_nothing(raise_ticket, org, personas):
    from django.db import transaction

    ticket = raise_ticket()
    member = TeamMember.objects.get(team=org.team_a, user=ticket.assignee)
    with pytest.raises(RuntimeError), transaction.atomic():
        catalog.team_member_deactivate(member=member)
        raise RuntimeError("the request failed later")
    ticket.refresh_from_db()
    assert ticket.assignee == member.user
    assert len(events(ticket, Kind.ASSIGNED)) == 1


def test_every_combination_of_the_demo_organisation_reaches_a_named_person():
    """Done when: a ticket raised anywhere in the demo organisation is assigned to someone,
    or waits with someone told (the demo admin is on triage duty)."""
    from portal.catalog import demo as catalog_demo
    from portal.catalog.models import Category
    from portal.catalog.selectors import find_mapping
    from portal.core.demo import load_demo_users

    users = {user.email: user for user in load_demo_users()}
    catalog_demo.load(users)
    assert User.objects.get(email="admin@example.com").on_triage_duty
    categories = Category.objects.filter(is_active=True, group__is_active=True)
    combinations = [
        (category, sub)
        for category in categories.select_related("group").prefetch_related("subcategories")
        for sub in ([s for s in category.subcategories.all() if s.is_active] or [None])
    ]
    assert combinations
    for category, sub in combinations:
        mapping = find_mapping(category_id=category.pk, subcategory_id=sub.pk if sub else None)
        holder = routing.holder_for(team=mapping.team if mapping else None, group=category.group)
        assert holder.assignee_id or holder.told, (category, sub, holder.reason)


def test_deactivating_an_account_hands_its_open_tickets_on(raise_ticket, org, personas):
    from portal.accounts import services as accounts

    ticket = raise_ticket()
    holder = ticket.assignee
    other = personas.lead if holder == personas.agent else personas.agent
    deliver_pending()
    Notification.objects.all().delete()
    accounts.user_update(
        user=holder, actor=personas.admin, full_name=holder.full_name, is_active=False
    )
    ticket.refresh_from_db()
    assert ticket.assignee == other
    [(_, new, reason)] = events(ticket, Kind.ASSIGNED)[-1:]
    assert new == other.full_name
    assert reason.startswith(f"{holder.full_name}'s account was deactivated. ")
    assert set(told("ticket_assigned")) == {other.email}


def test_deactivating_a_teams_last_account_sends_its_waiting_tickets_to_the_spoc(
    raise_ticket, org, personas, lead_only
):
    from portal.accounts import services as accounts

    ticket = raise_ticket()
    services.ticket_assign(actor=personas.admin, ticket=ticket, assignee=None)
    accounts.user_update(
        user=personas.lead, actor=personas.admin, full_name="Lead Persona", is_active=False
    )
    [(_, new, reason)] = events(ticket, Kind.WAITING)
    assert new == "Spoc Persona"
    assert reason.startswith("Lead Persona's account was deactivated. Team A has no active")


def test_an_import_that_replaces_the_spoc_hands_waiting_tickets_to_the_new_one(
    raise_ticket, org, personas
):
    from portal.catalog.importing import catalog_import_apply
    from portal.catalog.tests.workbooks import xlsx

    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    waiting = raise_ticket()
    deliver_pending()
    Notification.objects.all().delete()
    plan = catalog_import_apply(xlsx([["Group X", "", "", "", "outsider@example.com"]]))
    assert not plan.errors
    [_, (_, new, reason)] = events(waiting, Kind.WAITING)
    assert new == "Outsider Persona"
    assert reason.startswith("Spoc Persona is no longer SPOC of Group X.")
    assert set(told("ticket_waiting")) == {"outsider@example.com"}


# A member leaving, re-routing `n` of their tickets: 11 + 7 × n queries.
# Fixed: savepoint; the membership update; its team and user; the member's open tickets,
# locked; whether the team still has anyone; release; and, once, the tickets' group,
# category, subcategory and team for the emails' summary (the membership change started
# a new master-data version; later tickets read them from the cache).
# Per ticket (each needs its own lock, history and message): savepoint; the team's
# candidates (the chain); the ticket update; the history event; the analytics counter
# (the webhooks that want it come from the cache); the message to the new assignee
# (whose account came with the candidates): its pending notice (no task: the worker's
# pump finds it), no savepoint of its own inside the ticket's; release.
REROUTE_FIXED, REROUTE_PER_TICKET = 11, 7


@pytest.mark.parametrize("count", [1, 3])
def test_a_member_leaving_costs_a_fixed_number_of_queries_per_ticket(
    count, raise_ticket, org, personas, django_assert_num_queries
):
    from portal.tickets.models import Ticket

    tickets = [raise_ticket() for _ in range(count)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(assignee=personas.agent)
    member = TeamMember.objects.get(team=org.team_a, user=personas.agent)
    member = TeamMember.objects.get(pk=member.pk)  # team and user not loaded yet
    with django_assert_num_queries(REROUTE_FIXED + REROUTE_PER_TICKET * count):
        catalog.team_member_deactivate(member=member)
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {personas.lead.pk}


def test_the_ticket_page_says_whom_an_unassigned_ticket_waits_for(
    raise_ticket, org, personas, client_for
):
    TeamMember.objects.filter(team=org.team_a).update(is_active=False)
    ticket = raise_ticket()
    for viewer in (personas.requester, personas.spoc):
        page = " ".join(
            client_for(viewer).get(f"/tickets/{ticket.number}").content.decode().split()
        )
        assert "<dt>Assignee</dt><dd>Nobody yet: waiting for Spoc Persona</dd>" in page
    # Once someone has it, the page names them instead.
    TeamMember.objects.filter(team=org.team_a, user=personas.agent).update(is_active=True)
    services.ticket_take(ticket=ticket, actor=personas.agent)
    page = " ".join(
        client_for(personas.requester).get(f"/tickets/{ticket.number}").content.decode().split()
    )
    assert "<dt>Assignee</dt><dd>Agent Persona</dd>" in page
