"""Writes to approval rules (the steps a classification's tickets wait for; see
approval_rules.py). The admin site edits them through its own form; code (the demo
loader, imports) goes through here."""

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.accounts.models import User
from portal.catalog.models import ApprovalRule, Category, Subcategory

Approvers = ApprovalRule.Approvers


@transaction.atomic
def approval_rule_create(
    *,
    approvers: str,
    mode: str = ApprovalRule.Mode.ANY,
    position: int = 1,
    category: Category | None = None,
    subcategory: Subcategory | None = None,
    users: list[User] | None = None,
) -> ApprovalRule:
    """A step on a category or one subcategory; named approvers need `users`."""
    if (category is None) == (subcategory is None):
        raise ValidationError("An approval step sits on a category or on a subcategory.")
    if approvers not in Approvers.values:
        raise ValidationError({"approvers": ValidationError("Choose who approves.", code="bad")})
    if mode not in ApprovalRule.Mode.values:
        raise ValidationError({"mode": ValidationError("Choose any of or all of.", code="bad")})
    users = list(users or [])
    if (approvers == Approvers.USERS) != bool(users):
        raise ValidationError(
            {"users": ValidationError("Only named approvers take names.", code="users")}
        )
    rule = ApprovalRule.objects.create(
        category=category, subcategory=subcategory, position=position, approvers=approvers,
        mode=mode,
    )  # fmt: skip
    rule.users.set(users)
    return rule
