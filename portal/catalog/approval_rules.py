"""Which approval steps a classification needs (see docs/approvals.md).

A subcategory inherits its category's steps and adds its own after them, as request
forms do with their fields; no step at all means no approval.
"""

from django.db.models import Case, IntegerField, Q, Value, When

from portal.catalog.invalidation import MASTERS
from portal.catalog.models import ApprovalRule
from portal.lib.cache_versions import cached

CACHE_SECONDS = 24 * 3600


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
    """Whether a new ticket here waits for approval.

    Asked on every ticket raised, so the categories and subcategories that have rules
    are read once (one query) and kept in the shared cache until master data changes
    (rules are master data: catalog/invalidation.py).
    """
    if not category_id:
        return False
    categories, subcategories = _rule_owners()
    return category_id in categories or (subcategory_id or 0) in subcategories


def _rule_owners() -> tuple[frozenset[int], frozenset[int]]:
    """(ids of categories with rules, ids of subcategories with rules)."""

    def read() -> tuple[frozenset[int], frozenset[int]]:
        pairs = ApprovalRule.objects.values_list("category_id", "subcategory_id").distinct()
        return (
            frozenset(c for c, _ in pairs if c is not None),
            frozenset(s for _, s in pairs if s is not None),
        )

    return cached(MASTERS, ["approval-rule-owners"], read, timeout=CACHE_SECONDS)
