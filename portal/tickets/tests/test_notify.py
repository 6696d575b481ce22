"""Who is told what about a ticket, through the services, with mail on a real SMTP server."""

import pytest

from portal.lib.emails import signed_thread_id
from portal.notifications import delivery
from portal.notifications.models import EmailDelivery, Notification
from portal.testing.notices import deliver_pending
from portal.tickets import services
from portal.tickets.models import Status

pytestmark = pytest.mark.django_db


def told(kind=None) -> dict[str, list[str]]:
    """recipient email → texts of their in-app notifications (optionally of one kind)."""
    deliver_pending()  # what the worker does within seconds of the event
    rows = Notification.objects.select_related("recipient").order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    result: dict[str, list[str]] = {}
    for row in rows:
        result.setdefault(row.recipient.email, []).append(row.text)
    return result


def raise_ticket(personas, org, **extra):
    return services.ticket_create(
        requester=personas.requester, title="Laptop will not boot", description="Black screen.",
        group=org.group_x, category=org.hardware, subcategory=org.laptop, **extra,
    )  # fmt: skip


def test_a_new_ticket_tells_the_assignee_it_is_theirs_the_spoc_and_confirms_to_the_requester(
    personas, org
):
    ticket = raise_ticket(personas, org)
    assert ticket.assignee is not None
    # The assignee hears once, "assigned to you" (not a routine "New ticket" as well).
    assert told() == {
        ticket.assignee.email: [f"{ticket.number} is assigned to you: Laptop will not boot"],
        "spoc@example.com": [f"New ticket {ticket.number}: Laptop will not boot"],
        "requester@example.com": [f"We received your ticket {ticket.number}: Laptop will not boot"],
    }


def test_a_ticket_without_a_mapping_waits_for_the_spoc_who_is_told_why(personas, org):
    org.mapping_hardware.delete()
    ticket = raise_ticket(personas, org)
    assert ticket.team is None
    assert told("ticket_created") == {}
    assert told("ticket_waiting") == {
        "spoc@example.com": [
            f"{ticket.number} is waiting for you (No team is mapped to this classification): "
            f"{ticket.title}"
        ]
    }


def other_member(personas, ticket):
    """The member of team A who does not hold the ticket (routing picked one of two)."""
    return personas.lead if ticket.assignee_id == personas.agent.pk else personas.agent


def test_assignment_tells_the_new_assignee_not_the_actor(personas, org):
    ticket = raise_ticket(personas, org)
    newcomer = other_member(personas, ticket)
    deliver_pending()
    Notification.objects.all().delete()
    services.ticket_assign(actor=personas.spoc, ticket=ticket, assignee=newcomer)
    assert told("ticket_assigned") == {
        newcomer.email: [f"{ticket.number} is assigned to you: Laptop will not boot"]
    }


def test_taking_a_ticket_tells_nobody_about_the_assignment_but_the_requester_it_started(
    personas, org
):
    ticket = raise_ticket(personas, org)
    deliver_pending()
    Notification.objects.all().delete()
    services.ticket_take(actor=other_member(personas, ticket), ticket=ticket)
    assert told("ticket_assigned") == {}
    assert told("ticket_status") == {
        "requester@example.com": [f"{ticket.number} is now In progress: Laptop will not boot"]
    }


def test_moving_team_tells_whoever_now_holds_it(personas, org):
    from portal.catalog.models import TeamMember

    TeamMember.objects.create(team=org.team_b, user=personas.outsider, role=TeamMember.Role.LEAD)
    ticket = raise_ticket(personas, org)
    deliver_pending()
    Notification.objects.all().delete()
    services.ticket_move_team(
        actor=personas.lead, ticket=ticket, team=org.team_b, reason="Belongs to team B"
    )
    assert set(told("ticket_assigned")) == {"outsider@example.com"}


def test_status_change_tells_the_requester_and_resolution_offers_reopen(personas, org, smtp_server):
    ticket = raise_ticket(personas, org)
    services.ticket_change_status(actor=ticket.assignee, ticket=ticket, status=Status.IN_PROGRESS)
    services.ticket_change_status(actor=ticket.assignee, ticket=ticket, status=Status.RESOLVED)
    assert (
        f"{ticket.number} is now Resolved: Laptop will not boot"
        in told("ticket_status")["requester@example.com"]
    )
    delivery.sweep()
    [mail] = [
        m for m in smtp_server.messages_to("requester@example.com") if "Resolved" in m["Subject"]
    ]
    assert f"/tickets/{ticket.number}#reopen" in mail.get_body(("plain",)).get_content()
    assert mail["In-Reply-To"] == signed_thread_id(f"tkt-{ticket.pk}", "localhost")


def test_public_comment_tells_requester_and_assignee_but_not_its_author(personas, org):
    ticket = raise_ticket(personas, org)
    holder = ticket.assignee
    deliver_pending()
    Notification.objects.all().delete()
    services.comment_add(actor=holder, ticket=ticket, body="Can you try a restart?")
    assert set(told("ticket_comment")) == {"requester@example.com"}
    services.comment_add(actor=personas.requester, ticket=ticket, body="Tried, still black.")
    assert set(told("ticket_comment")) == {"requester@example.com", holder.email}


def test_no_recipient_of_an_internal_comment_is_the_requester(personas, org, smtp_server):
    from portal.catalog.models import TeamMember

    # The requester is also a member of the team that works their ticket.
    TeamMember.objects.create(team=org.team_a, user=personas.requester)
    ticket = raise_ticket(personas, org)
    services.ticket_take(actor=personas.agent, ticket=ticket)
    deliver_pending()
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()
    services.comment_add(
        actor=personas.lead, ticket=ticket, body="Disk is dying; order one.", internal=True
    )
    recipients = set(told("ticket_comment"))
    assert recipients == {"agent@example.com"}
    assert "requester@example.com" not in set(
        EmailDelivery.objects.values_list("to_address", flat=True)
    )
    delivery.sweep()
    assert smtp_server.messages_to("requester@example.com") == []


def test_a_rolled_back_change_tells_nobody(personas, org):
    from portal.tickets.errors import ActionForbidden

    ticket = raise_ticket(personas, org)
    deliver_pending()
    Notification.objects.all().delete()
    with pytest.raises(ActionForbidden):
        services.comment_add(actor=personas.requester, ticket=ticket, body="x", internal=True)
    deliver_pending()
    assert not Notification.objects.exists()


def test_ticket_title_with_line_breaks_makes_one_clean_subject(personas, org, smtp_server):
    services.ticket_create(
        requester=personas.requester, title="Printer\r\nBcc: x@evil.example",
        description="d", group=org.group_x, category=org.hardware,
    )  # fmt: skip
    deliver_pending()
    delivery.sweep()
    for received in smtp_server.received:
        assert received.message["Bcc"] is None
        assert "\n" not in received.message["Subject"]
        assert all("evil.example" not in rcpt for rcpt in received.rcpt_tos)


def test_watchers_hear_of_status_changes_and_public_comments_but_not_internal_notes(personas, org):
    ticket = raise_ticket(personas, org)
    assert services.ticket_watch(actor=personas.spoc, ticket=ticket) is True
    assert services.ticket_watch(actor=personas.spoc, ticket=ticket) is False  # already
    holder = ticket.assignee
    deliver_pending()
    Notification.objects.all().delete()
    services.comment_add(actor=holder, ticket=ticket, body="Looking now.")
    services.comment_add(actor=holder, ticket=ticket, body="Internal: reimage.", internal=True)
    services.ticket_change_status(actor=holder, ticket=ticket, status=Status.IN_PROGRESS)
    heard = told()["spoc@example.com"]
    assert heard == [
        f"New comment on {ticket.number}: Laptop will not boot",
        f"{ticket.number} is now In progress: Laptop will not boot",
    ]


def test_a_watcher_who_left_the_team_still_sees_the_ticket_as_a_watcher_and_is_told(personas, org):
    # Watchers see what they watch (access.WATCHER): leaving the team takes away the
    # internal side, not the watch. Stopping watching stops the messages (below).
    from portal.catalog.models import TeamMember

    ticket = raise_ticket(personas, org)
    holder = ticket.assignee
    other = personas.lead if holder.pk == personas.agent.pk else personas.agent
    services.ticket_watch(actor=other, ticket=ticket)
    TeamMember.objects.filter(user=other).update(is_active=False)  # left the team
    deliver_pending()
    Notification.objects.all().delete()
    services.comment_add(actor=holder, ticket=ticket, body="Internal", internal=True)
    services.comment_add(actor=holder, ticket=ticket, body="Still on it.")
    assert told()[other.email] == [f"New comment on {ticket.number}: Laptop will not boot"]


def test_unwatching_stops_the_messages(personas, org):
    ticket = raise_ticket(personas, org)
    services.ticket_watch(actor=personas.spoc, ticket=ticket)
    services.ticket_watch(actor=personas.spoc, ticket=ticket, watch=False)
    deliver_pending()
    Notification.objects.all().delete()
    services.comment_add(actor=ticket.assignee, ticket=ticket, body="Done soon.")
    assert "spoc@example.com" not in told()
