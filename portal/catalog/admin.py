"""Approval rules on the admin site (/admin): an admin adds the steps a category or
subcategory needs (docs/approvals.md). Rules are read when a ticket is raised; changing
them never changes an approval already running (its steps were copied then)."""

from django import forms
from django.contrib import admin

from portal.catalog.models import ApprovalRule

Approvers = ApprovalRule.Approvers


class ApprovalRuleForm(forms.ModelForm):
    class Meta:
        model = ApprovalRule
        fields = ["category", "subcategory", "position", "approvers", "mode", "users"]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("category")) == bool(cleaned.get("subcategory")):
            raise forms.ValidationError("Choose a category or a subcategory (one of them).")
        users = cleaned.get("users")
        if cleaned.get("approvers") == Approvers.USERS and not users:
            self.add_error("users", "Name at least one approver.")
        if cleaned.get("approvers") != Approvers.USERS and users:
            self.add_error("users", "Only named approvers take names.")
        return cleaned


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    form = ApprovalRuleForm
    list_display = ["__str__", "category", "subcategory"]
    list_select_related = ["category__group", "subcategory__category"]
    list_filter = ["approvers", "mode"]
    autocomplete_fields = ["users"]
    ordering = ["category", "subcategory", "position"]
