"""An approver who leaves (deactivated or erased) leaves no request stuck: their pending
part passes to their delegate, or is dropped when others on the step can still decide,
or falls to the admins on triage duty; each hand-on is a line in the ticket's history."""

import pytest
from django.utils import timezone
from django.utils.html import escape

from portal.accounts import services as accounts
from portal.approvals import services
from portal.approvals.models import ApprovalStep, Approver
from portal.catalog.models import ApprovalRule
from portal.notifications.models import Notification
from portal.testing.notices import deliver_pending
from portal.tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
Approvers, Mode = ApprovalRule.Approvers, ApprovalRule.Mode


def _deactivate(user, personas):
    accounts.user_update(user=user, actor=personas.admin, full_name=user.full_name, is_active=False)


def _on_duty(admin):
    admin.on_triage_duty = True
    admin.save(update_fields=["on_triage_duty"])


def _handed_on(ticket) -> TicketEvent:
    return TicketEvent.objects.get(ticket=ticket, kind="approval", new_value="reassigned")


def _decide(actor, ticket, decision="approved"):
    step = ApprovalStep.objects.get(ticket=ticket, state="pending")
    return services.approval_decide(actor=actor, step_id=step.pk, decision=decision)


def test_a_departed_approvers_part_falls_to_their_delegate(awaiting, manager, personas):
    today = timezone.localdate()
    services.delegation_set(
        actor=manager, user=manager, delegate=personas.lead, starts_on=today, ends_on=today
    )
    _deactivate(manager, personas)
    row = Approver.objects.get(step__ticket=awaiting)
    assert row.user == personas.lead and row.decision == ""
    event = _handed_on(awaiting)
    assert event.actor is None
    assert "Mia Manager can no longer decide" in event.reason and "Lead Persona" in event.reason
    deliver_pending()
    assert Notification.objects.filter(recipient=personas.lead, kind="approval_request").exists()
    _decide(personas.lead, awaiting)  # now theirs to decide, in their own name
    assert Ticket.objects.get(pk=awaiting.pk).status == Status.NEW


def test_the_ticket_history_says_the_approval_was_passed_on_and_why(
    awaiting, manager, personas, client_for
):
    _on_duty(personas.admin)
    _deactivate(manager, personas)
    event = _handed_on(awaiting)
    page = client_for(personas.requester).get(awaiting.get_absolute_url()).content.decode()
    # The stored code ("reassigned") reads as a sentence naming the step, with the reason.
    line = f"passed on the approval of someone who left ({event.old_value})"
    assert escape(line) in page and escape(event.reason) in page
    assert ">reassigned<" not in page


def test_without_a_delegate_it_falls_to_the_admins_on_triage_duty(awaiting, manager, personas):
    _on_duty(personas.admin)
    _deactivate(manager, personas)
    step = ApprovalStep.objects.get(ticket=awaiting)
    assert list(step.approvers.values_list("user", flat=True)) == [personas.admin.pk]
    assert step.state == "pending" and step.mode == Mode.ANY
    assert "admins on triage duty decide instead" in step.fallback_reason
    event = _handed_on(awaiting)
    assert "nobody else on the step can" in event.reason and "Admin Persona" in event.reason
    deliver_pending()
    assert Notification.objects.filter(recipient=personas.admin, kind="approval_request").exists()
    _decide(personas.admin, awaiting)
    assert Ticket.objects.get(pk=awaiting.pk).status == Status.NEW


def test_others_on_an_any_step_still_decide_without_the_departed(raise_ticket, rule, personas):
    rule(Approvers.USERS, users=[personas.lead, personas.spoc])
    ticket = raise_ticket()
    _deactivate(personas.lead, personas)
    step = ApprovalStep.objects.get(ticket=ticket)
    assert list(step.approvers.values_list("user", flat=True)) == [personas.spoc.pk]
    assert "Spoc Persona can still decide" in _handed_on(ticket).reason


def test_an_all_step_with_every_other_yes_is_approved_when_the_last_leaves(
    raise_ticket, rule, personas
):
    rule(Approvers.USERS, mode=Mode.ALL, users=[personas.lead, personas.spoc])
    ticket = raise_ticket()
    _decide(personas.spoc, ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.AWAITING  # the lead's part waits
    _deactivate(personas.lead, personas)
    assert ApprovalStep.objects.get(ticket=ticket).state == "approved"
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW  # routed as a new ticket
    assert "everyone else asked has approved" in _handed_on(ticket).reason


def test_an_erased_approvers_part_passes_on_when_the_erasure_is_accepted(
    awaiting, manager, personas
):
    from portal.retention.erasure_services import erasure_request

    _on_duty(personas.admin)
    erasure_request(user=manager, actor=personas.admin)
    step = ApprovalStep.objects.get(ticket=awaiting)
    assert list(step.approvers.values_list("user", flat=True)) == [personas.admin.pk]
    assert _handed_on(awaiting)


def test_decided_parts_and_other_tickets_are_left_alone(awaiting, manager, personas, raise_ticket):
    _on_duty(personas.admin)
    _decide(manager, awaiting)  # decided: the record stays theirs
    _deactivate(manager, personas)
    assert Approver.objects.get(step__ticket=awaiting).user == manager
    assert not TicketEvent.objects.filter(new_value="reassigned").exists()
