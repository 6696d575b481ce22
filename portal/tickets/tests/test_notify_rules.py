"""Notifications match what a person needs to do: who gets which message, read from the
outbox (in-app rows and queued emails) after real service calls."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.accounts.models import User
from portal.catalog.models import TeamMember
from portal.catalog.selectors import attach_master_rows
from portal.notifications.models import EmailDelivery, Notification
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.tickets import access, services
from portal.tickets.errors import TicketClosed
from portal.tickets.models import Comment, Status, Ticket, TicketEvent
from portal.tickets.tests.test_notify import told
from portal.tickets.transitions import REOPEN_WINDOW

pytestmark = pytest.mark.django_db


def mail_to(address: str) -> list[EmailDelivery]:
    deliver_pending()  # what the worker does within seconds of the event
    return written(EmailDelivery.objects.filter(to_address=address).order_by("created_at"))


def forget() -> None:
    deliver_pending()  # what the worker does within seconds of the event
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()


def other_member(personas, ticket):
    return personas.lead if ticket.assignee_id == personas.agent.pk else personas.agent


# --- Reassignment and moves ------------------------------------------------------------------


def test_reassignment_tells_the_new_holder_with_the_reason_and_the_previous_one(personas, ticket):
    previous, newcomer = ticket.assignee, other_member(personas, ticket)
    forget()
    services.ticket_assign(
        actor=personas.spoc, ticket=ticket, assignee=newcomer, reason="Knows this model"
    )
    assert told() == {
        newcomer.email: [f"{ticket.number} is assigned to you: {ticket.title}"],
        previous.email: [
            f"{ticket.number} is no longer yours (now with {newcomer}): {ticket.title}"
        ],
    }
    [to_new] = mail_to(newcomer.email)
    [to_previous] = mail_to(previous.email)
    assert "Reason: Knows this model" in to_new.body_text
    assert "Reason: Knows this model" in to_previous.body_text
    assert to_previous.kind == "ticket_unassigned"


def test_unassigning_tells_the_leads_it_waits_and_the_previous_holder(personas, ticket):
    previous = ticket.assignee
    forget()
    services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=None, reason="Away")
    assert told("ticket_assigned") == {
        "lead@example.com": [f"{ticket.number} is waiting in Team A: {ticket.title}"]
    }
    assert told("ticket_unassigned") == {
        previous.email: [
            f"{ticket.number} is no longer yours (now waiting in Team A): {ticket.title}"
        ]
    }


def test_taking_a_ticket_someone_else_held_tells_them(personas, ticket):
    previous, taker = ticket.assignee, other_member(personas, ticket)
    forget()
    services.ticket_take(actor=taker, ticket=ticket)
    assert told("ticket_unassigned") == {
        previous.email: [f"{ticket.number} is no longer yours (now with {taker}): {ticket.title}"]
    }


def test_a_move_tells_the_new_teams_assignee_and_the_previous_holder(personas, org, ticket):
    TeamMember.objects.create(team=org.team_b, user=personas.outsider)
    previous = ticket.assignee
    forget()
    services.ticket_move_team(
        actor=previous, ticket=ticket, team=org.team_b, reason="Belongs to team B"
    )
    assert told("ticket_assigned") == {
        "outsider@example.com": [f"{ticket.number} is assigned to you: {ticket.title}"]
    }
    # The mover is the previous holder here: nobody is told about their own action.
    assert told("ticket_unassigned") == {}
    services.ticket_move_team(
        actor=personas.admin, ticket=Ticket.objects.get(pk=ticket.pk), team=org.team_a,
        reason="Back again",
    )  # fmt: skip
    assert "outsider@example.com" in told("ticket_unassigned")
    assert "Reason: Back again" in mail_to("outsider@example.com")[-1].body_text


def test_a_move_to_a_team_with_only_a_lead_tells_its_lead(personas, org, ticket):
    TeamMember.objects.create(team=org.team_b, user=personas.outsider, role=TeamMember.Role.LEAD)
    forget()
    services.ticket_move_team(actor=personas.lead, ticket=ticket, team=org.team_b, reason="B's")
    assert set(told("ticket_assigned")) == {"outsider@example.com"}


# --- The holder hears what the requester does ------------------------------------------------


def _resolved(personas, ticket):
    return services.ticket_change_status(
        actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED, reason="New fuser"
    )


@pytest.mark.parametrize(
    ("target", "line"),
    [(Status.IN_PROGRESS, "{requester} reopened {number}"),
     (Status.CLOSED, "{requester} confirmed {number} is fixed")],
)  # fmt: skip
def test_the_assignee_learns_when_the_requester_reopens_or_confirms(personas, ticket, target, line):
    ticket = _resolved(personas, ticket)
    forget()
    services.ticket_change_status(
        actor=personas.requester, ticket=ticket, status=target, reason="Still jams"
    )
    expected = line.format(requester=personas.requester, number=ticket.number)
    assert told("ticket_status") == {ticket.assignee.email: [f"{expected}: {ticket.title}"]}
    assert "Their note: Still jams" in mail_to(ticket.assignee.email)[0].body_text


def test_the_assignee_learns_when_the_requester_cancels(personas, ticket):
    forget()
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status="cancelled")
    assert told() == {
        ticket.assignee.email: [f"{personas.requester} cancelled {ticket.number}: {ticket.title}"]
    }


def test_the_leads_learn_when_the_requester_cancels_an_unassigned_ticket(personas, ticket):
    services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=None)
    forget()
    services.ticket_change_status(
        actor=personas.requester, ticket=Ticket.objects.get(pk=ticket.pk), status="cancelled"
    )
    assert told() == {
        "lead@example.com": [f"{personas.requester} cancelled {ticket.number}: {ticket.title}"]
    }


def test_the_assignee_learns_of_a_status_change_someone_else_made(personas, ticket):
    forget()
    services.ticket_change_status(actor=personas.spoc, ticket=ticket, status=Status.ON_HOLD)
    heard = told("ticket_status")
    assert set(heard) == {"requester@example.com", ticket.assignee.email}


def test_the_leads_are_not_told_of_their_teams_own_work_on_an_unassigned_ticket(personas, ticket):
    services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=None)
    forget()
    services.ticket_change_status(
        actor=personas.agent, ticket=Ticket.objects.get(pk=ticket.pk), status=Status.ON_HOLD
    )
    assert set(told()) == {"requester@example.com"}


def test_the_requesters_comment_on_an_unassigned_ticket_reaches_the_leads(personas, ticket):
    services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=None)
    forget()
    services.comment_add(actor=personas.requester, ticket=ticket, body="Any news?")
    assert set(told("ticket_comment")) == {"lead@example.com"}


def test_the_requesters_comment_on_a_ticket_without_team_reaches_the_spocs(
    personas, group_y_ticket, org
):
    org.group_y.spocs.add(personas.spoc)
    forget()
    services.comment_add(actor=personas.requester, ticket=group_y_ticket, body="Hello?")
    assert set(told("ticket_comment")) == {"spoc@example.com"}


# --- A comment on a closed ticket ------------------------------------------------------------


def _closed(personas, ticket, *, days_ago: float = 1):
    ticket = _resolved(personas, ticket)
    ticket = services.ticket_change_status(
        actor=personas.requester, ticket=ticket, status=Status.CLOSED
    )
    when = timezone.now() - dt.timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=when, closed_at=when)
    return Ticket.objects.get(pk=ticket.pk)


def test_a_requesters_comment_on_a_closed_ticket_reopens_it_within_the_window(personas, ticket):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days - 1)
    holder, version = ticket.assignee, ticket.version
    forget()
    services.comment_add(actor=personas.requester, ticket=ticket, body="It jams again.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert (ticket.closed_at, ticket.resolved_at) == (None, None)
    assert ticket.version == version + 1  # an open status form is now stale
    event = TicketEvent.objects.filter(ticket=ticket, kind="status").latest("id")
    assert (event.old_value, event.new_value) == (Status.CLOSED, Status.IN_PROGRESS)
    assert told() == {
        holder.email: [
            f"{personas.requester} commented on closed {ticket.number} and reopened it: "
            f"{ticket.title}"
        ]
    }


def test_after_the_window_the_comment_is_refused_and_nothing_is_written(personas, ticket):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    forget()
    with pytest.raises(TicketClosed, match="follow-up"):
        services.comment_add(actor=personas.requester, ticket=ticket, body="Again?")
    assert not Comment.objects.filter(ticket=ticket).exists()
    deliver_pending()
    assert not Notification.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_a_comment_on_a_cancelled_ticket_is_refused(personas, ticket):
    services.ticket_change_status(actor=personas.requester, ticket=ticket, status="cancelled")
    with pytest.raises(TicketClosed):
        services.comment_add(
            actor=personas.requester, ticket=Ticket.objects.get(pk=ticket.pk), body="Oops"
        )


def test_a_workers_comment_on_a_closed_ticket_neither_reopens_nor_is_refused(personas, ticket):
    ticket = _closed(personas, ticket, days_ago=REOPEN_WINDOW.days + 1)
    services.comment_add(actor=ticket.assignee, ticket=ticket, body="For the record.")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


# --- Watchers in one query -------------------------------------------------------------------


def test_who_may_see_a_ticket_in_sql_agrees_with_can_view_for_every_persona(
    personas, org, ticket, other_ticket, group_y_ticket
):
    # The assignee of a group Y ticket who is an agent elsewhere; a SPOC of an inactive group.
    services.ticket_assign(actor=personas.admin, ticket=ticket, assignee=personas.lead)
    everyone = User.objects.filter(pk__in=[u.pk for u in personas.all().values()])
    for each in Ticket.objects.all():
        in_sql = set(access.users_who_can_view(each, everyone).values_list("email", flat=True))
        in_python = {u.email for u in personas.all().values() if access.can_view(u, each)}
        assert in_sql == in_python, each.number
    TeamMember.objects.filter(user=personas.agent).update(is_active=False)
    org.group_x.is_active = False
    org.group_x.save(update_fields=["is_active"])
    for each in Ticket.objects.all():
        in_sql = set(access.users_who_can_view(each, everyone).values_list("email", flat=True))
        fresh = [User.objects.get(pk=u.pk) for u in personas.all().values()]  # no cached roles
        assert in_sql == {u.email for u in fresh if access.can_view(u, each)}, each.number


def _watchers(ticket, count: int) -> None:
    for index in range(count):
        watcher = User.objects.create_user(f"watcher{index}@example.com", "x", is_staff=True)
        ticket.watchers.add(watcher)


# Telling people costs the same whatever the number of watchers: their ids are read in one
# plain query and, when there are some, who of them may see the ticket in one more
# (access.users_who_can_view; it was two per watcher), and they are told with one bulk
# insert each of notifications and deliveries after one read of their email preferences.
#
# Each also asks which webhooks want the change (portal/webhooks/events.py; cached once
# read): none here.
#
# A delivery opens no savepoint of its own inside the change's transaction (notify).
#
# An event's messages to different people are kept together (notify_many): one pending
# notice (no task row: the worker's pump finds it), whether it tells one group of people
# or three (the worker
# writes the notifications, reads the preferences and writes the deliveries). The email's
# summary (group, category, subcategory, team) comes from the master-data cache, as on the
# ticket page; the tests warm it as a page view would.
#
# comment_add, 11: savepoint; the actor's SPOC groups and team memberships (roles); the
# ticket, locked; insert the comment; update the ticket; insert the history event; the
# watchers and who of them may see it (2); then the pending notice to the requester's
# side, and the outer release. The
# webhooks come from the cache (raising the ticket read them).
COMMENT_ADD = 11
# ticket_change_status, 11: savepoint; the actor's roles (2); the ticket, locked (its SLA
# policy and the webhooks are cached since the ticket was raised); update the ticket;
# insert the history event; the analytics counter; the watchers (2); then the two messages
# (the requester and watchers; the assignee, who did not make the change) in one pending
# notice, and the release.
CHANGE_STATUS = 11
# ticket_create, 12 (the first of its classification; later ones read the approval rules,
# mapping, SLA policy and webhooks from the cache): savepoint; whether the classification
# needs approval; mapping; the team's load (with the members' accounts, so the assignee is
# not read again); SLA policy; insert the ticket, its history and the analytics counter;
# the webhooks; the SPOCs; then the assignee's "assigned to you", the SPOCs' "New ticket"
# and the requester's confirmation in one pending notice (no watchers are looked up: a
# ticket raised in this transaction has none yet), and the release.
CREATE = 12


@pytest.mark.parametrize("watchers", [1, 5])
def test_comment_add_costs_the_same_queries_whatever_the_number_of_watchers(
    personas, ticket, watchers, django_assert_num_queries
):
    _watchers(ticket, watchers)
    attach_master_rows([ticket])
    requester = User.objects.get(pk=personas.requester.pk)
    with django_assert_num_queries(COMMENT_ADD):
        services.comment_add(actor=requester, ticket=ticket, body="Any news?")
    deliver_pending()
    assert Notification.objects.filter(kind="ticket_comment").count() == watchers + 1


def test_a_comment_on_a_ticket_nobody_watches_asks_the_access_layer_nothing(
    personas, ticket, django_assert_num_queries
):
    attach_master_rows([ticket])
    requester = User.objects.get(pk=personas.requester.pk)
    with django_assert_num_queries(COMMENT_ADD - 1):
        services.comment_add(actor=requester, ticket=ticket, body="Any news?")
    deliver_pending()
    assert Notification.objects.filter(kind="ticket_comment").count() == 1


@pytest.mark.parametrize("watchers", [1, 5])
def test_ticket_change_status_costs_the_same_queries_whatever_the_number_of_watchers(
    personas, ticket, watchers, django_assert_num_queries
):
    _watchers(ticket, watchers)
    attach_master_rows([ticket])
    actor = User.objects.get(pk=personas.spoc.pk)
    with django_assert_num_queries(CHANGE_STATUS):
        services.ticket_change_status(actor=actor, ticket=ticket, status=Status.ON_HOLD)
    # The requester, the watchers and the assignee (a change they did not make).
    deliver_pending()
    assert Notification.objects.filter(kind="ticket_status").count() == watchers + 2


def test_ticket_create_tells_everyone_in_one_delivery(personas, org, django_assert_num_queries):
    requester = User.objects.get(pk=personas.requester.pk)
    with django_assert_num_queries(CREATE):
        services.ticket_create(
            requester=requester, title="Screen flickers", description="Since Monday.",
            group=org.group_x, category=org.hardware, subcategory=org.laptop,
        )  # fmt: skip
