"""The /masters screen's form for approval steps (writes go through approval_rule_services).

Where a step sits is one select, as on the request-form field screen: a category (its
subcategories need the step too) or a single subcategory, as `c<id>` / `s<id>`. Named
approvers are typed as emails, like a group's SPOCs.
"""

from django import forms

from portal.catalog.approval_rule_services import MAX_POSITION
from portal.catalog.form_field_forms import OwnerSelectForm, owner_value
from portal.catalog.forms import UserEmailsField
from portal.catalog.models import ApprovalRule, Subcategory


class ApprovalRuleForm(OwnerSelectForm):
    owner = forms.ChoiceField(label="Step of", choices=[])
    position = forms.IntegerField(
        label="Order",
        min_value=1,
        max_value=MAX_POSITION,
        initial=1,
        help_text="Steps run in this order; a category's steps run before its subcategory's.",
    )
    approvers = forms.ChoiceField(label="Who approves", choices=ApprovalRule.Approvers.choices)
    mode = forms.ChoiceField(
        label="How many must approve",
        choices=ApprovalRule.Mode.choices,
        initial=ApprovalRule.Mode.ANY,
    )
    users = UserEmailsField(
        label="Named approvers (emails)",
        required=False,
        max_length=5000,
        help_text="Only for named approvers: active users, separated by commas.",
    )

    @classmethod
    def initial_for(cls, rule: ApprovalRule) -> dict:
        return {
            "owner": owner_value(rule),
            "position": rule.position,
            "approvers": rule.approvers,
            "mode": rule.mode,
            "users": ", ".join(sorted(u.email for u in rule.users.all())),
        }


def rule_args(data: dict) -> dict:
    owner = data["owner"]
    where = "subcategory" if isinstance(owner, Subcategory) else "category"
    return {
        where: owner,
        "position": data["position"],
        "approvers": data["approvers"],
        "mode": data["mode"],
        "users": data["users"],
    }
