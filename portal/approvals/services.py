"""Every change to an approval is one of these functions (docs/approvals.md).

Each runs in one transaction that locks the step it changes, so two approvers pressing
at once are decided one after the other: the second finds the step decided and is told
so, with nothing written. The ticket's side (history, status, routing, notices) is
written through `tickets.approval_services` in the same transaction.
"""

import datetime as dt
from collections.abc import Collection

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import is_admin
from portal.accounts.triage import active_admins, triage_admins
from portal.approvals import access, notify
from portal.approvals.models import COMMENT_MAX, ApprovalStep, Approver, Delegation
from portal.catalog import approval_rules
from portal.catalog.models import ApprovalRule
from portal.lib.errors import Conflict
from portal.tickets import access as ticket_access
from portal.tickets import approval_services as tickets
from portal.tickets.models import Ticket

State = ApprovalStep.State
Decision = Approver.Decision
DECISIONS = (Decision.APPROVED, Decision.REJECTED)


class AlreadyDecided(Conflict):
    """The step (or this person's part in it) was decided before this request."""


class SelfApproval(PermissionDenied):
    """Nobody decides on a ticket they raised."""


# --- Opening ---------------------------------------------------------------------------


def _approvers(rule: ApprovalRule, ticket: Ticket) -> tuple[list[User], str]:
    """Who the rule names for this ticket (never the requester), and why not when it names
    nobody who can act: then the admins on triage duty decide (any one of them), so the
    request always reaches a person."""
    Approvers = ApprovalRule.Approvers
    requester = ticket.requester
    if rule.approvers == Approvers.MANAGER:
        manager = requester.manager
        people = [manager] if manager is not None and manager.is_active else []
        gap = f"{requester} has no active manager"
    elif rule.approvers == Approvers.SPOC:
        people = list(ticket.group.spocs.filter(is_active=True).order_by("full_name", "email"))
        gap = f"{ticket.group} has no active SPOC"
    else:
        people = [user for user in rule.users.all() if user.is_active]
        gap = "none of the named approvers is active"
    if people and all(user.pk == requester.pk for user in people):
        gap = f"the only approver, {requester}, raised the request"
    people = [user for user in people if user.pk != requester.pk]
    if people:
        return people, ""
    return _admins_instead(requester), f"{gap}: the admins on triage duty decide instead"


def _admins_instead(requester: User, *, besides: Collection[int] = ()) -> list[User]:
    """Who decides a step nobody else can: the admins on triage duty (any admin when
    nobody is on duty), never the requester nor anyone in `besides`."""
    admins = [user for user in triage_admins() if user.pk != requester.pk]
    if not admins:  # nobody on duty: any admin
        admins = list(active_admins().exclude(pk=requester.pk)[:20])
    return [user for user in admins if user.pk not in besides]


@transaction.atomic
def approval_open(*, ticket: Ticket) -> list[ApprovalStep]:
    """Copy the classification's rules into steps for a ticket just raised awaiting
    approval, and open the first. Idempotent: a ticket that has steps keeps them."""
    if ApprovalStep.objects.filter(ticket=ticket).exists():
        return list(ApprovalStep.objects.filter(ticket=ticket))
    rules = approval_rules.steps_for(ticket.category_id, ticket.subcategory_id)
    now = timezone.now()
    steps = []
    for position, rule in enumerate(rules, start=1):
        people, fallback = _approvers(rule, ticket)
        step = ApprovalStep.objects.create(
            ticket=ticket,
            position=position,
            approvers_kind=rule.approvers,
            mode=ApprovalRule.Mode.ANY if fallback else rule.mode,
            fallback_reason=fallback[:300],
            category_id=ticket.category_id,
            created_at=now,
        )
        Approver.objects.bulk_create(Approver(step=step, user=user) for user in people)
        steps.append(step)
    if steps:
        _open(steps[0], ticket, now)
    return steps


def _open(step: ApprovalStep, ticket: Ticket, now: dt.datetime) -> None:
    step.state, step.opened_at = State.PENDING, now
    step.save(update_fields=["state", "opened_at"])
    access.forget_pending_counts()
    rows = list(step.approvers.select_related("user"))
    names = ", ".join(str(row.user) for row in rows) or "nobody"
    reason = f"Waiting for {names}."
    if step.fallback_reason:
        reason = f"{step.fallback_reason[0].upper()}{step.fallback_reason[1:]}. {reason}"
    tickets.ticket_approval_note(
        ticket_id=ticket.pk, actor=None, note="requested", step=step.label, reason=reason
    )
    notify.ask(step, ticket, rows)


# --- Deciding --------------------------------------------------------------------------


def _clean(decision: str, comment: str) -> str:
    if decision not in DECISIONS:
        raise ValidationError(
            {"decision": ValidationError("Choose approve or reject.", code="invalid")}
        )
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {"comment": ValidationError(f"At most {COMMENT_MAX} characters.", code="too_long")}
        )
    if decision == Decision.REJECTED and not comment:
        raise ValidationError(
            {"comment": ValidationError("Say why you reject it.", code="required")}
        )
    return comment


@transaction.atomic
def approval_decide(*, actor: User, step_id: int, decision: str, comment: str = "") -> ApprovalStep:
    """`actor` approves or rejects a pending step, for themself and for anyone they stand
    in for on it. A rejection (with its reason) closes the ticket; the last approval a
    step needs opens the next step, or, after the last, routes the ticket.

    Refuses (nothing written) with 404 for someone with no part in the step,
    `SelfApproval` on one's own ticket, `AlreadyDecided` on a step or part decided before,
    and a `ValidationError` for a bad decision or a rejection without a reason.
    """
    comment = _clean(decision, comment)
    access.get_step_for_user(actor, step_id)  # 404 before anything is locked
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("ticket__requester", "ticket__group")
        .get(pk=step_id)
    )
    ticket = step.ticket
    if ticket.requester_id == actor.pk:
        raise SelfApproval("You cannot decide on a request you raised.")
    if step.state != State.PENDING:
        raise AlreadyDecided(f"This approval was already decided ({step.get_state_display()}).")
    acting = access.acting_for(actor)
    rows = list(
        step.approvers.select_for_update().filter(user_id__in=acting, decision=Decision.PENDING)
    )
    if not rows:
        raise AlreadyDecided("You have already decided this approval.")
    now = timezone.now()
    access.forget_pending_counts()
    for row in rows:
        row.decision, row.comment, row.decided_at, row.decided_by = decision, comment, now, actor
        row.save(update_fields=["decision", "comment", "decided_at", "decided_by"])
    on_behalf = [str(row.user) for row in rows if row.user_id != actor.pk]
    reason = comment + (f" (for {', '.join(on_behalf)})" if on_behalf else "")
    tickets.ticket_approval_note(
        ticket_id=ticket.pk, actor=actor, note=decision, step=step.label, reason=reason.strip()
    )
    if decision == Decision.REJECTED:
        _finish(step, State.REJECTED, now)
        _skip_after(step, now)
        tickets.ticket_reject(ticket_id=ticket.pk, actor=actor, reason=comment)
        return step
    undecided = step.approvers.filter(decision=Decision.PENDING).exists()
    if step.mode == ApprovalRule.Mode.ALL and undecided:
        return step  # all of them must approve: the step stays pending for the others
    _approved(step, ticket, now)
    return step


def _approved(step: ApprovalStep, ticket: Ticket, now: dt.datetime) -> None:
    """The step has every yes it needs: open the next one, or, after the last, route."""
    _finish(step, State.APPROVED, now)
    following = (
        ApprovalStep.objects.filter(ticket=ticket, state=State.WAITING).order_by("position").first()
    )
    if following is not None:
        _open(following, ticket, now)
    else:
        tickets.ticket_release(ticket_id=ticket.pk, actor=None)


def _finish(step: ApprovalStep, state: str, now: dt.datetime) -> None:
    step.state, step.decided_at = state, now
    step.save(update_fields=["state", "decided_at"])


def _skip_after(step: ApprovalStep, now: dt.datetime) -> None:
    ApprovalStep.objects.filter(ticket_id=step.ticket_id, state=State.WAITING).update(
        state=State.SKIPPED, decided_at=now
    )


@transaction.atomic
def approvals_skip(*, ticket_id: int) -> int:
    """The ticket left "awaiting approval" another way (cancelled): its open and waiting
    steps are skipped, so nobody is asked or reminded about it again."""
    access.forget_pending_counts()
    return ApprovalStep.objects.filter(
        ticket_id=ticket_id, state__in=[State.PENDING, State.WAITING]
    ).update(state=State.SKIPPED, decided_at=timezone.now())


# --- Someone leaves ------------------------------------------------------------------


def approvals_hand_on(*, user: User) -> int:
    """`user` can no longer decide (their account was deactivated, or is being erased):
    every pending step still waiting for their part passes it on, in the caller's
    transaction. Returns how many steps changed.

    - To their delegate of the day (docs/approvals.md, "Delegates"), who takes their
      place on the step, is asked with their own links, and decides as any approver.
    - Else, when others on the step can still decide it, their part is dropped, as it is
      when a step opens with someone inactive (a step needing all of them that had every
      other yes is approved at once).
    - Else the step falls to the admins on triage duty (any one of them), as a step that
      names nobody who can act does when it opens.
    Each is a history line on the ticket (`reassigned`), saying who and why.
    """
    step_ids = sorted(
        set(
            Approver.objects.filter(
                user=user, decision=Decision.PENDING, step__state=State.PENDING
            ).values_list("step_id", flat=True)
        )
    )
    changed = sum(_hand_on(step_id, user) for step_id in step_ids)
    if changed:
        access.forget_pending_counts()  # parts moved to someone else, or went
    return changed


def _delegate_today(user: User) -> User | None:
    today = timezone.localdate()
    delegation = (
        Delegation.objects.filter(
            user=user, starts_on__lte=today, ends_on__gte=today, delegate__is_active=True
        )
        .select_related("delegate")
        .order_by("starts_on", "id")
        .first()
    )
    return delegation.delegate if delegation is not None else None


def _hand_on(step_id: int, user: User) -> int:
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("ticket__requester", "ticket__group")
        .get(pk=step_id)
    )
    row = step.approvers.filter(user=user, decision=Decision.PENDING).first()
    if step.state != State.PENDING or row is None:
        return 0
    ticket, now = step.ticket, timezone.now()
    on_step = set(step.approvers.values_list("user_id", flat=True))
    left = f"{user} can no longer decide"

    def note(reason: str) -> None:
        tickets.ticket_approval_note(
            ticket_id=ticket.pk, actor=None, note="reassigned", step=step.label, reason=reason
        )

    delegate = _delegate_today(user)
    if delegate is not None and delegate.pk not in on_step and delegate.pk != ticket.requester_id:
        row.user = delegate
        row.save(update_fields=["user"])
        note(f"{left}; their part falls to their delegate, {delegate}.")
        notify.ask(step, ticket, [row])
        return 1
    row.delete()
    remaining = step.approvers.filter(decision=Decision.PENDING)
    if remaining.filter(user__is_active=True).exists():
        names = ", ".join(str(r.user) for r in remaining.select_related("user"))
        note(f"{left}; {names} can still decide.")
        return 1
    if not remaining.exists() and step.approvers.filter(decision=Decision.APPROVED).exists():
        note(f"{left}; everyone else asked has approved.")
        _approved(step, ticket, now)
        return 1
    admins = _admins_instead(ticket.requester, besides=on_step)
    rows = Approver.objects.bulk_create(Approver(step=step, user=admin) for admin in admins)
    step.mode = ApprovalRule.Mode.ANY
    why = f"{left}, and nobody else on the step can: the admins on triage duty decide instead"
    step.fallback_reason = why[:300]
    step.save(update_fields=["mode", "fallback_reason"])
    names = ", ".join(str(admin) for admin in admins) or "nobody"
    note(f"{why}. Waiting for {names}.")
    notify.ask(step, ticket, rows)
    return 1


# --- Reminders -------------------------------------------------------------------------


def remind_due(now: dt.datetime | None = None, *, hours: int) -> int:
    """Remind the approvers of steps pending longer than `hours`, once per step.

    Each step is claimed by a conditional UPDATE (`reminded_at IS NULL`): with any number
    of workers running this at once, exactly one wins each step and sends its reminder.
    """
    if not hours:
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=hours)
    due = list(
        ApprovalStep.objects.filter(
            state=State.PENDING, reminded_at__isnull=True, opened_at__lte=cutoff
        )
        .order_by("opened_at")
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for pk in due:
        sent += _remind(pk, now)
    return sent


@transaction.atomic
def _remind(pk: int, now: dt.datetime) -> int:
    claimed = ApprovalStep.objects.filter(
        pk=pk, state=State.PENDING, reminded_at__isnull=True
    ).update(reminded_at=now)
    if not claimed:
        return 0
    step = ApprovalStep.objects.get(pk=pk)
    # A job, not a person: the ticket through the access layer's one named bypass.
    ticket = (
        ticket_access.system_read(Ticket)
        .select_related("requester", "group")
        .get(pk=step.ticket_id)
    )
    rows = list(step.approvers.filter(decision=Decision.PENDING).select_related("user"))
    names = ", ".join(str(row.user) for row in rows)
    tickets.ticket_approval_note(
        ticket_id=step.ticket_id, actor=None, note="reminded", step=step.label,
        reason=f"Still waiting for {names}." if names else "",
    )  # fmt: skip
    notify.ask(step, ticket, rows, reminder=True)
    return 1


# --- Delegations -----------------------------------------------------------------------


@transaction.atomic
def delegation_set(
    *, actor: User, user: User, delegate: User, starts_on: dt.date, ends_on: dt.date
) -> Delegation:
    """`delegate` decides `user`'s approvals from `starts_on` to `ends_on` (days
    included). The approver sets their own; an admin sets anyone's."""
    if actor.pk != user.pk and not is_admin(actor):
        raise PermissionDenied("Only the approver or an admin can name a delegate.")
    if delegate.pk == user.pk:
        raise ValidationError(
            {"delegate": ValidationError("Choose someone else as the delegate.", code="self")}
        )
    if not delegate.is_active:
        raise ValidationError(
            {"delegate": ValidationError(f"{delegate} cannot sign in.", code="inactive")}
        )
    if ends_on < starts_on:
        raise ValidationError(
            {"ends_on": ValidationError("The end is before the start.", code="order")}
        )
    if ends_on < timezone.localdate():
        raise ValidationError({"ends_on": ValidationError("That is over.", code="past")})
    overlapping = Delegation.objects.filter(
        Q(user=user), starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists()
    if overlapping:
        raise Conflict("Those days overlap another delegation of the same person; end it first.")
    access.forget_pending_counts()
    return Delegation.objects.create(
        user=user,
        delegate=delegate,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
        created_at=timezone.now(),
    )


@transaction.atomic
def delegation_end(*, actor: User, delegation_id: int) -> None:
    """End a delegation now (delete it if it had not started)."""
    delegation = Delegation.objects.select_for_update().filter(pk=delegation_id).first()
    if delegation is None or not (is_admin(actor) or actor.pk == delegation.user_id):
        raise PermissionDenied("Only the approver or an admin can end a delegation.")
    today = timezone.localdate()
    access.forget_pending_counts()
    if delegation.starts_on >= today:
        delegation.delete()
        return
    delegation.ends_on = today - dt.timedelta(days=1)
    delegation.save(update_fields=["ends_on"])
