"""Approval pages: my pending approvals, one approval's decision page, the signed email
link's confirmation page, and delegations.

The email's links open `/approvals/link/<token>`: for the approver signed in, a page with
the decision chosen; the POST decides. A GET never decides (mail scanners and previews
open every link).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.models import User
from portal.accounts.roles import is_admin
from portal.accounts.types import AuthenticatedRequest
from portal.approvals import access, links, notify, services
from portal.approvals.forms import DecisionForm, DelegationForm
from portal.approvals.models import ApprovalStep, Approver
from portal.lib.forms import add_service_errors
from portal.lib.http import parse_id, posted_data
from portal.lib.signed_links import BadLink
from portal.tickets import access as ticket_access

PENDING_LIMIT = 200


@never_cache
@require_http_methods(["GET", "HEAD"])
def pending(request: AuthenticatedRequest) -> HttpResponse:
    rows = list(access.pending_rows(request.user)[:PENDING_LIMIT])
    return render(request, "approvals/pending.html", {"rows": rows})


def _context(request: AuthenticatedRequest, step: ApprovalStep, form: DecisionForm) -> dict:
    rows = list(step.approvers.select_related("user", "decided_by"))
    acting = set(access.acting_for(request.user))
    mine = [row for row in rows if row.user_id in acting and not row.decision]
    return {
        "step": step,
        "ticket": step.ticket,
        "rows": rows,
        "answers": notify.answers(step.ticket),
        "form": form,
        "can_decide": bool(mine)
        and step.state == ApprovalStep.State.PENDING
        and step.ticket.requester_id != request.user.pk,
    }


def _after_decision(request: AuthenticatedRequest, step: ApprovalStep) -> HttpResponse:
    """Back where the decision was made: the ticket page's approval panel sends
    `next=ticket`, and goes back to the ticket if the person still sees it."""
    if request.POST.get("next") == "ticket":
        ticket = ticket_access.visible_tickets(request.user).filter(pk=step.ticket_id).first()
        if ticket is not None:
            return redirect(ticket)
    return redirect("approvals")


def _decision_page(
    request: AuthenticatedRequest,
    step: ApprovalStep,
    *,
    initial: dict | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    """Both decision pages (the approval's own and the email link's): GET shows the step;
    POST decides through the service, refusals land on the form (400, or 409 when someone
    decided first), and a decision goes back where it was made."""
    form = DecisionForm(posted_data(request), initial=initial)
    status = 200
    if request.method == "POST":
        if step.ticket.requester_id == request.user.pk:
            raise PermissionDenied("You cannot decide on a request you raised.")
        status = 400
        if form.is_valid():
            try:
                services.approval_decide(
                    actor=request.user,
                    step_id=step.pk,
                    decision=form.cleaned_data["decision"],
                    comment=form.cleaned_data["comment"],
                )
            except services.AlreadyDecided as error:
                add_service_errors(form, error)
                status = 409
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                approved = form.cleaned_data["decision"] == Approver.Decision.APPROVED
                messages.success(
                    request, f"You {'approved' if approved else 'rejected'} {step.ticket.number}."
                )
                return _after_decision(request, step)
    context = {**_context(request, step, form), **(extra or {})}
    return render(request, "approvals/detail.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def detail(request: AuthenticatedRequest, step_id: str) -> HttpResponse:
    pk = parse_id(step_id)
    if pk is None:
        raise Http404("No such approval.")
    return _decision_page(request, access.get_step_for_user(request.user, pk))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link(request: AuthenticatedRequest, token: str) -> HttpResponse:
    """The emailed link: checked in full before anything is shown or decided."""
    try:
        target = links.read_token(token)
    except BadLink as error:
        return render(request, "approvals/link_refused.html", {"error": error.message}, status=400)
    if target.user_id != request.user.pk:
        return render(
            request,
            "approvals/link_refused.html",
            {"error": "This link was sent to someone else. Sign in as them, or open your own."},
            status=403,
        )
    row = Approver.objects.filter(pk=target.approver_id).select_related("step").first()
    if row is None:
        return render(
            request, "approvals/link_refused.html", {"error": "No such approval."}, status=404
        )
    step = access.get_step_for_user(request.user, row.step_id)
    if row.decision or step.state != ApprovalStep.State.PENDING:
        error = "This approval was already decided; the link works only once."
        context = {"error": error, "step": step}
        return render(request, "approvals/link_refused.html", context, status=409)
    return _decision_page(
        request,
        step,
        initial={"decision": target.decision},
        extra={"from_link": True, "chosen": target.decision},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def delegations(request: AuthenticatedRequest) -> HttpResponse:
    """My delegations (an admin: everyone's), and the form to add one."""
    form = DelegationForm(posted_data(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.delegation_set(
                    actor=request.user,
                    user=_user(form, "user", default=request.user),
                    delegate=_user(form, "delegate"),
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "The delegate is set.")
                return redirect("approval-delegations")
    shown = access.visible_delegations(request.user).select_related("user", "delegate")
    context = {
        "form": form,
        "delegations": list(shown.order_by("-starts_on", "-id")[:200]),
        "is_admin": is_admin(request.user),
    }
    return render(request, "approvals/delegations.html", context, status=status)


def _user(form: DelegationForm, name: str, *, default: User | None = None) -> User:
    email = form.cleaned_data.get(name) or ""
    if not email and default is not None:
        return default
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise ValidationError({name: ValidationError("Nobody has that email.", code="unknown")})
    return user


@require_POST
def delegation_end(request: AuthenticatedRequest, delegation_id: str) -> HttpResponse:
    pk = parse_id(delegation_id)
    if pk is None:
        raise PermissionDenied("No such delegation.")
    services.delegation_end(actor=request.user, delegation_id=pk)
    messages.success(request, "The delegation ended.")
    return redirect("approval-delegations")
