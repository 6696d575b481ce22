"""`{% ticket_approval ticket %}`: the approval panel of the ticket page.

The ticket page shows it only while the ticket awaits approval, to whoever may see the
ticket (the page asked the access layer): its steps in order, who must decide, the
decisions so far with their comments, and, for an approver of the open step (or their
delegate of the day), the decision form, which posts to the approval's own page
(`views.detail`, the same service and checks). Three queries: the steps, their approvers,
and the delegations the viewer stands in for.
"""

from django import template
from django.db.models import Prefetch

from portal.approvals import access
from portal.approvals.forms import DecisionForm
from portal.approvals.models import ApprovalStep, Approver

register = template.Library()


@register.inclusion_tag("approvals/_ticket_panel.html", takes_context=True)
def ticket_approval(context, ticket) -> dict:
    user = context["request"].user
    steps = list(
        ApprovalStep.objects.filter(ticket=ticket)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "approvers",
                queryset=Approver.objects.select_related("user", "decided_by").order_by("id"),
            )
        )
    )
    open_step = next((s for s in steps if s.state == ApprovalStep.State.PENDING), None)
    can_decide = False
    if open_step is not None and ticket.requester_id != user.pk:
        acting = set(access.acting_for(user))
        can_decide = any(
            row.user_id in acting and not row.decision for row in open_step.approvers.all()
        )
    return {
        "ticket": ticket,
        "steps": steps,
        "open_step": open_step,
        "can_decide": can_decide,
        "form": DecisionForm() if can_decide else None,
        "csrf_token": context.get("csrf_token"),
    }
