"""A ticket needing approval waits (no team, nobody assigned, no SLA clock), its
approvers decide in order, and after the last yes it is routed exactly as a new ticket;
a rejection closes it with the reason; every decision is in the history."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.accounts.models import User
from portal.approvals import services
from portal.approvals.models import ApprovalStep, Approver, Delegation
from portal.catalog.models import ApprovalRule
from portal.notifications.models import EmailDelivery, Notification, PendingNotice
from portal.testing.notices import deliver_pending
from portal.testing.outbox import written
from portal.testing.personas import PASSWORD
from portal.tickets import services as ticket_services
from portal.tickets.models import Status, Ticket, TicketEvent
from portal.tickets.tests.sla_fixtures import T0, always_open, clock_at  # noqa: F401

pytestmark = pytest.mark.django_db
Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode


def _fresh(ticket) -> Ticket:
    return Ticket.objects.select_related("team", "assignee").get(pk=ticket.pk)


def _notes(ticket) -> list[tuple[str, str]]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind="approval")
        .order_by("id")
        .values_list("new_value", "actor__email")
    )


def _decide(user, ticket, decision="approved", comment=""):
    step = ApprovalStep.objects.get(ticket=ticket, state="pending")
    return services.approval_decide(actor=user, step_id=step.pk, decision=decision, comment=comment)


def test_a_ticket_needing_approval_waits_unrouted_and_its_approver_is_asked(awaiting, manager):
    ticket = _fresh(awaiting)
    assert ticket.status == Status.AWAITING
    assert (ticket.team, ticket.assignee) == (None, None)
    [step] = ApprovalStep.objects.filter(ticket=ticket)
    assert (step.state, list(step.approvers.values_list("user__email", flat=True))) == (
        "pending",
        ["manager@example.com"],
    )
    assert _notes(ticket) == [("requested", None)]
    assert not TicketEvent.objects.filter(ticket=ticket, kind__in=["routed", "assigned"]).exists()
    deliver_pending()
    [notice] = Notification.objects.filter(kind="approval_request")
    assert notice.recipient == manager and notice.link == f"/approvals/{step.pk}"
    [email] = written(EmailDelivery.objects.filter(kind="approval_request"))
    assert email.to_address == "manager@example.com"
    assert "/approvals/link/" in email.body_text and "Approve:" in email.body_text
    # The requester's confirmation says what happens next.
    [received] = written(EmailDelivery.objects.filter(kind="ticket_received"))
    assert received.to_address == "requester@example.com"
    assert "It needs approval before anyone works on it" in received.body_text
    # Nobody in team A is told about a ticket they may not work yet.
    assert (
        not Notification.objects.exclude(kind="approval_request")
        .exclude(recipient=ticket.requester)
        .exists()
    )


def test_approval_routes_the_ticket_exactly_as_a_new_one(awaiting, manager, personas):
    _decide(manager, awaiting, comment="Fine by me")
    ticket = _fresh(awaiting)
    assert ticket.status == Status.NEW
    assert ticket.team.name == "Team A" and ticket.assignee == personas.agent
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", "new_value")
    )
    assert kinds[-5:] == [
        ("approval", "requested"),
        ("approval", "approved"),
        ("status", "new"),
        ("routed", "Team A"),
        ("assigned", "Agent Persona"),
    ]
    approved = TicketEvent.objects.get(ticket=ticket, kind="approval", new_value="approved")
    assert (approved.actor, approved.reason) == (manager, "Fine by me")
    # The assignee is told it is theirs, as with any new ticket, and the requester who has it.
    deliver_pending()
    assert Notification.objects.filter(recipient=personas.agent, kind="ticket_assigned").exists()
    # Deliveries have random (UUID) ids: find the routed confirmation by what it says.
    confirmations = [
        m.body_text for m in written(EmailDelivery.objects.filter(kind="ticket_received"))
    ]
    assert len(confirmations) == 2
    assert sum("Agent Persona (Team A) has it" in body for body in confirmations) == 1
    assert sum("needs approval before anyone works on it" in body for body in confirmations) == 1


def test_rejection_closes_the_ticket_with_the_reason_and_tells_the_requester(
    awaiting, manager, personas
):
    _decide(manager, awaiting, "rejected", "Not in this quarter's budget")
    ticket = _fresh(awaiting)
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert ticket.team is None and ticket.assignee is None
    event = TicketEvent.objects.get(ticket=ticket, kind="status")
    assert event.reason == "Rejected: Not in this quarter's budget"
    deliver_pending()
    assert Notification.objects.filter(recipient=personas.requester, kind="ticket_status").exists()


def test_a_rejection_needs_a_reason_and_writes_nothing_without_one(awaiting, manager):
    with pytest.raises(ValidationError) as refused:
        _decide(manager, awaiting, "rejected", "  ")
    assert "comment" in refused.value.error_dict
    assert _fresh(awaiting).status == Status.AWAITING
    assert not Approver.objects.exclude(decision="").exists()


def test_nobody_decides_on_their_own_request_even_as_a_named_approver(
    raise_ticket, rule, personas, org
):
    rule(Approvers.USERS, users=[personas.requester, personas.lead])
    ticket = raise_ticket()
    step = ApprovalStep.objects.get(ticket=ticket)
    # The requester is left out when the step opens; the other approver decides.
    assert list(step.approvers.values_list("user", flat=True)) == [personas.lead.pk]
    Delegation.objects.create(
        user=personas.lead, delegate=personas.requester, starts_on=dt.date(2000, 1, 1),
        ends_on=dt.date(2999, 1, 1), created_at=T0,
    )  # fmt: skip
    with pytest.raises(services.SelfApproval):
        services.approval_decide(actor=personas.requester, step_id=step.pk, decision="approved")
    assert _fresh(ticket).status == Status.AWAITING


def test_any_of_needs_one_yes_and_the_second_approver_finds_it_decided(
    raise_ticket, rule, personas
):
    rule(Approvers.USERS, users=[personas.lead, personas.spoc])
    ticket = raise_ticket()
    _decide(personas.spoc, ticket)
    assert _fresh(ticket).status == Status.NEW
    step = ApprovalStep.objects.get(ticket=ticket)
    with pytest.raises(services.AlreadyDecided):
        services.approval_decide(actor=personas.lead, step_id=step.pk, decision="rejected",
                                 comment="too late")  # fmt: skip
    assert _fresh(ticket).status == Status.NEW


def test_all_of_needs_every_approver(raise_ticket, rule, personas):
    rule(Approvers.USERS, mode=Mode.ALL, users=[personas.lead, personas.spoc])
    ticket = raise_ticket()
    _decide(personas.spoc, ticket)
    assert _fresh(ticket).status == Status.AWAITING
    with pytest.raises(services.AlreadyDecided):  # one decision per person
        _decide(personas.spoc, ticket)
    _decide(personas.lead, ticket)
    assert _fresh(ticket).status == Status.NEW


def test_steps_run_in_order_category_first_then_subcategory(
    raise_ticket, rule, manager, personas, org
):
    rule(Approvers.USERS, users=[personas.lead], on=org.laptop, position=1)
    rule(Approvers.MANAGER, position=5)
    ticket = raise_ticket()
    steps = list(ApprovalStep.objects.filter(ticket=ticket).order_by("position"))
    assert [(s.approvers_kind, s.state) for s in steps] == [
        ("manager", "pending"),
        ("users", "waiting"),
    ]
    # The second step's approver cannot decide before it opens.
    with pytest.raises(services.AlreadyDecided):
        services.approval_decide(actor=personas.lead, step_id=steps[1].pk, decision="approved")
    _decide(manager, ticket)
    deliver_pending()
    assert Notification.objects.filter(recipient=personas.lead, kind="approval_request").exists()
    assert _fresh(ticket).status == Status.AWAITING
    _decide(personas.lead, ticket)
    assert _fresh(ticket).status == Status.NEW
    assert [n for n, _ in _notes(ticket)] == ["requested", "approved", "requested", "approved"]


def test_rejection_at_the_first_step_skips_the_later_ones(raise_ticket, rule, manager, personas):
    rule(Approvers.MANAGER)
    rule(Approvers.USERS, users=[personas.lead], position=2)
    ticket = raise_ticket()
    _decide(manager, ticket, "rejected", "No")
    states = list(ApprovalStep.objects.filter(ticket=ticket).values_list("state", flat=True))
    assert states == ["rejected", "skipped"]
    deliver_pending()
    assert not Notification.objects.filter(recipient=personas.lead).exists()


def test_spoc_approval_asks_the_groups_spocs(raise_ticket, rule, personas):
    rule(Approvers.SPOC)
    ticket = raise_ticket()
    step = ApprovalStep.objects.get(ticket=ticket)
    assert list(step.approvers.values_list("user", flat=True)) == [personas.spoc.pk]


def test_a_requester_without_a_manager_goes_to_the_triage_admins(raise_ticket, rule, personas):
    personas.admin.on_triage_duty = True
    personas.admin.save(update_fields=["on_triage_duty"])
    rule(Approvers.MANAGER)
    ticket = raise_ticket()
    step = ApprovalStep.objects.get(ticket=ticket)
    assert list(step.approvers.values_list("user", flat=True)) == [personas.admin.pk]
    assert "has no active manager" in step.fallback_reason
    requested = TicketEvent.objects.get(ticket=ticket, kind="approval")
    assert "has no active manager" in requested.reason


def test_a_delegate_decides_for_the_approver_while_they_are_away(awaiting, manager, personas):
    today = timezone.localdate()
    services.delegation_set(
        actor=manager, user=manager, delegate=personas.lead, starts_on=today, ends_on=today
    )
    _decide(personas.lead, awaiting)
    row = Approver.objects.get()
    assert (row.user, row.decided_by, row.decision) == (manager, personas.lead, "approved")
    assert _fresh(awaiting).status == Status.NEW


def test_the_requester_may_cancel_while_waiting_and_nobody_is_asked_again(awaiting, personas):
    ticket_services.ticket_change_status(
        actor=personas.requester, ticket=awaiting, status=Status.CANCELLED
    )
    assert ApprovalStep.objects.get().state == "skipped"


def test_nobody_moves_a_ticket_past_its_approval_by_hand(awaiting, personas):
    for status in (Status.NEW, Status.IN_PROGRESS, Status.RESOLVED):
        with pytest.raises(ticket_services.ActionForbidden):
            ticket_services.ticket_change_status(
                actor=personas.admin, ticket=awaiting, status=status
            )
    assert _fresh(awaiting).status == Status.AWAITING


def test_the_sla_clock_does_not_run_while_awaiting_approval(
    raise_ticket,
    rule,
    manager,
    always_open,  # noqa: F811
):
    rule(Approvers.MANAGER)
    with clock_at(T0):
        ticket = raise_ticket()
    waiting = _fresh(ticket)
    assert waiting.sla_policy_name == "Standard"
    assert waiting.sla_response_due_at is None  # paused: no due time while waiting
    approved_at = T0 + dt.timedelta(hours=30)
    with clock_at(approved_at):
        _decide(manager, ticket)
    routed = _fresh(ticket)
    # Medium: 4 h to first response, 20 h to resolution, counted from the approval.
    assert routed.sla_response_due_at == approved_at + dt.timedelta(hours=4)
    assert routed.sla_resolution_due_at == approved_at + dt.timedelta(hours=20)


def test_reminders_go_once_per_step_after_the_configured_time(awaiting, manager):
    step = ApprovalStep.objects.get()
    later = step.opened_at + dt.timedelta(hours=49)
    assert services.remind_due(step.opened_at + dt.timedelta(hours=47), hours=48) == 0
    assert services.remind_due(later, hours=48) == 1
    assert services.remind_due(later, hours=48) == 0
    deliver_pending()
    assert Notification.objects.filter(recipient=manager, kind="approval_reminder").count() == 1
    assert [n for n, _ in _notes(awaiting)] == ["requested", "reminded"]


def test_an_inactive_manager_is_not_asked(raise_ticket, rule, manager, personas):
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    other = User.objects.create_user("x@example.com", PASSWORD, full_name="X", is_staff=True)
    rule(Approvers.MANAGER)
    ticket = raise_ticket()
    users = set(ApprovalStep.objects.get(ticket=ticket).approvers.values_list("user", flat=True))
    assert manager.pk not in users and other.pk in users


def test_someone_watching_while_it_waited_gets_the_confirmation_when_it_is_routed(
    awaiting, manager
):
    # A ticket raised now has no watchers, and its notices do not look for any; one
    # released by its approvers may have gained some while it waited.
    watcher = User.objects.create_user("watcher@example.com", "x", is_staff=True)
    ticket_services.ticket_watch(actor=watcher, ticket=awaiting)
    _decide(manager, awaiting)
    deliver_pending()
    [email] = written(
        EmailDelivery.objects.filter(kind="ticket_received", to_address=watcher.email)
    )
    assert "Agent Persona (Team A) has it" in email.body_text


def test_the_approvers_email_lists_the_request_forms_answers(raise_ticket, manager, rule, org):
    """The answers reach the outbox as plain values (label and text) and the written mail
    shows them: an approver decides on what was asked for."""
    from portal.testing.request_forms import form_service_create

    form_service_create(category=org.hardware, key="asset_tag", label="Asset tag",
                        field_type="text", position=0)  # fmt: skip
    rule(Approvers.MANAGER)
    raise_ticket(form_values={"asset_tag": "LT-0042"})
    deliver_pending()
    [email] = written(EmailDelivery.objects.filter(kind="approval_request"))
    assert "Asset tag: LT-0042" in email.body_text
    assert '<th align="left">Asset tag</th><td>LT-0042</td>' in email.body_html


def test_a_resent_form_of_a_ticket_needing_approval_is_the_first_one(raise_ticket, manager, rule):
    """A resend on the approval path goes through the same INSERT (written unless its key
    is held): the first ticket, one approval step, nothing written, nobody told again."""
    rule(Approvers.MANAGER)
    key = uuid.uuid4()
    first = raise_ticket(idempotency_key=key)
    assert first.status == Status.AWAITING
    counts = (TicketEvent.objects.count(), PendingNotice.objects.count(),
              ApprovalStep.objects.count())  # fmt: skip
    assert raise_ticket(idempotency_key=key).pk == first.pk
    assert (TicketEvent.objects.count(), PendingNotice.objects.count(),
            ApprovalStep.objects.count()) == counts  # fmt: skip
    assert Ticket.objects.filter(idempotency_key=key).count() == 1
