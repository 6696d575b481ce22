"""Shared test helpers."""

from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
)


def snapshot():
    """Everything an import could change, to prove a refused import changed nothing."""
    return (
        sorted(BusinessUnitGroup.objects.values_list("name", "code", "is_active")),
        sorted(
            BusinessUnitGroup.spocs.through.objects.values_list("businessunitgroup_id", "user_id")
        ),
        sorted(Category.objects.values_list("group_id", "name", "is_active")),
        sorted(Subcategory.objects.values_list("category_id", "name", "is_active")),
        sorted(Team.objects.values_list("name", "is_active")),
        sorted(
            ClassificationMapping.objects.values_list(
                "category_id", "subcategory_id", "team_id", "default_priority"
            ),
            key=str,
        ),
    )
