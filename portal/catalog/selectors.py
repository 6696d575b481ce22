"""Shared reads of master data."""

from django.core.cache import cache

from portal.catalog.invalidation import MASTERS
from portal.catalog.models import ClassificationMapping, Team
from portal.lib.cache_versions import versioned_key

CACHE_SECONDS = 24 * 3600


def active_team_choices() -> list[tuple[int, str]]:
    """(id, name) of the active teams by name, cached until master data changes (the
    bulk-action select of every ticket list page)."""
    key = versioned_key(MASTERS, "active-teams")
    choices = cache.get(key)
    if choices is None:
        choices = list(Team.objects.active().order_by("name").values_list("pk", "name"))
        cache.set(key, choices, CACHE_SECONDS)
    return choices


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
