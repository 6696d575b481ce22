"""Writes to approval rules (the steps a classification's tickets wait for; see
approval_rules.py). The /masters/approvals screen, the Excel import and the demo loader
all go through here, so each applies the same rules:

- a step sits on a category or on one subcategory, never both;
- its order is a whole number from 1 to 99, unique among the steps of that category or
  subcategory (so the order a ticket's steps run in is never a tie);
- who approves is one of `ApprovalRule.Approvers`, the mode `any` or `all`;
- named approvers (and only they) name people, every one an active user.

Refusals are `ValidationError`s keyed by the argument concerned; nothing is written then.
Rules are read when a ticket is raised: changing or deleting one never changes an
approval already running (its steps were copied then).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.accounts.models import User
from portal.catalog.models import ApprovalRule, Category, Subcategory

Approvers = ApprovalRule.Approvers
MAX_POSITION = 99


def check_definition(*, approvers: str, mode: str, position: int, users: list[User]) -> None:
    """The rules a step's own values follow (no database read): raises ValidationError."""
    errors: dict[str, str] = {}
    if approvers not in Approvers.values:
        errors["approvers"] = f"Choose who approves: {', '.join(Approvers.values)}."
    if mode not in ApprovalRule.Mode.values:
        errors["mode"] = "Choose any (one yes is enough) or all (everyone must approve)."
    if not isinstance(position, int) or not 1 <= position <= MAX_POSITION:
        errors["position"] = f"Use a whole number from 1 to {MAX_POSITION}."
    if approvers == Approvers.USERS and not users:
        errors["users"] = "Name at least one approver."
    elif approvers in Approvers.values and approvers != Approvers.USERS and users:
        errors["users"] = "Only named approvers take names; leave the names empty."
    else:
        inactive = sorted(u.email for u in users if not u.is_active)
        if inactive:
            errors["users"] = f"Not an active user: {', '.join(inactive)}."
    if errors:
        raise ValidationError({k: ValidationError(v, code="invalid") for k, v in errors.items()})


def _check_owner(
    category: Category | None, subcategory: Subcategory | None, position: int, rule_id=None
) -> None:
    if (category is None) == (subcategory is None):
        raise ValidationError(
            {"owner": ValidationError("Choose a category or a subcategory.", code="owner")}
        )
    owner = {"subcategory": subcategory} if subcategory is not None else {"category": category}
    taken = ApprovalRule.objects.filter(**owner, position=position).exclude(pk=rule_id).exists()
    if taken:
        raise ValidationError(
            {
                "position": ValidationError(
                    f"Another step here already has order {position}.", code="taken"
                )
            }
        )


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
    users = list(users or [])
    check_definition(approvers=approvers, mode=mode, position=position, users=users)
    _check_owner(category, subcategory, position)
    rule = ApprovalRule.objects.create(
        category=category, subcategory=subcategory, position=position, approvers=approvers,
        mode=mode,
    )  # fmt: skip
    rule.users.set(users)
    return rule


@transaction.atomic
def approval_rule_update(
    *,
    rule: ApprovalRule,
    approvers: str,
    mode: str,
    position: int,
    category: Category | None = None,
    subcategory: Subcategory | None = None,
    users: list[User] | None = None,
) -> ApprovalRule:
    """Change every value of a step (it may move to another category or subcategory)."""
    users = list(users or [])
    check_definition(approvers=approvers, mode=mode, position=position, users=users)
    _check_owner(category, subcategory, position, rule_id=rule.pk)
    rule.category, rule.subcategory = category, subcategory
    rule.position, rule.approvers, rule.mode = position, approvers, mode
    rule.save(update_fields=["category", "subcategory", "position", "approvers", "mode"])
    rule.users.set(users)
    return rule


@transaction.atomic
def approval_rule_delete(*, rule: ApprovalRule) -> None:
    """Remove a step; tickets already waiting keep the steps they copied."""
    rule.delete()
