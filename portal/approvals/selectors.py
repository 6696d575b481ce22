"""Approval figures per category: how many requests were approved or rejected in a
period, the approval rate, and the time from request to the final yes.

A request's outcome is its final step: the one rejected, or the last approved. Counted
by the day that decision fell on; one aggregate query grouped by category.
"""

import datetime as dt

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q

from portal.approvals.models import ApprovalStep

State = ApprovalStep.State


def figures(*, start: dt.date, end: dt.date, scope: Q) -> list[dict]:
    """The figures of the steps `scope` allows (`access.figures_scope`: everything for an
    admin, their groups' tickets for a SPOC)."""
    later = ApprovalStep.objects.filter(
        ticket=OuterRef("ticket"), position__gt=OuterRef("position")
    )
    finals = ApprovalStep.objects.filter(
        Q(state=State.REJECTED) | (Q(state=State.APPROVED) & ~Exists(later)),
        decided_at__date__gte=start,
        decided_at__date__lte=end,
    ).filter(scope)
    waited = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    rows = (
        finals.values("category_id", "category__name", "category__group__name")
        .annotate(
            approved=Count("id", filter=Q(state=State.APPROVED)),
            rejected=Count("id", filter=Q(state=State.REJECTED)),
            time_to_approval=Avg(waited, filter=Q(state=State.APPROVED)),
        )
        .order_by("category__group__name", "category__name")
    )
    result = []
    for row in rows:
        total = row["approved"] + row["rejected"]
        name = " / ".join(
            part for part in (row["category__group__name"], row["category__name"]) if part
        )
        result.append(
            {
                "name": name or "(category deleted)",
                "approved": row["approved"],
                "rejected": row["rejected"],
                "total": total,
                "approval_percent": round(100 * row["approved"] / total) if total else None,
                "hours_to_approval": _hours(row["time_to_approval"]),
            }
        )
    return result


def _hours(duration: dt.timedelta | None) -> float | None:
    return round(duration.total_seconds() / 3600, 1) if duration is not None else None
