"""Which approval steps a classification needs (see docs/approvals.md).

A subcategory inherits its category's steps and adds its own after them, as request
forms do with their fields; no step at all means no approval.
"""

from django.db.models import Case, IntegerField, Q, Value, When

from portal.catalog.models import ApprovalRule


def steps_for(category_id: int | None, subcategory_id: int | None = None) -> list[ApprovalRule]:
    """The rules in the order their steps run, named approvers loaded (two queries; one
    when there is none)."""
    if not category_id:
        return []
    where = Q(category_id=category_id)
    if subcategory_id:
        where |= Q(subcategory_id=subcategory_id)
    return list(
        ApprovalRule.objects.filter(where)
        .annotate(
            # The category's steps run before the subcategory's.
            level=Case(
                When(category_id__isnull=False, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("level", "position", "id")
        .prefetch_related("users")
    )


def needs_approval(category_id: int | None, subcategory_id: int | None = None) -> bool:
    """One EXISTS query: whether a new ticket here waits for approval."""
    if not category_id:
        return False
    where = Q(category_id=category_id)
    if subcategory_id:
        where |= Q(subcategory_id=subcategory_id)
    return ApprovalRule.objects.filter(where).exists()
