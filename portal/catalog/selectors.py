"""Shared reads of master data."""

from portal.catalog.models import ClassificationMapping


def find_mapping(*, category_id: int, subcategory_id: int | None) -> ClassificationMapping | None:
    """The mapping for a classification: the subcategory's own wins over "any subcategory".

    One query. Mappings to inactive teams are ignored (the ticket then waits for the SPOC).
    """
    candidates = ClassificationMapping.objects.select_related("team").filter(
        category_id=category_id, team__is_active=True
    )
    best = None
    for mapping in candidates.filter(
        subcategory_id__in=[subcategory_id] if subcategory_id else []
    ) | candidates.filter(subcategory__isnull=True):
        if mapping.subcategory_id is not None:
            return mapping
        best = mapping
    return best
