"""The coverage report: which active classifications would reach no team.

A combination is covered when `selectors.find_mapping` would find an active team for it:
a mapping naming the subcategory, or one for "any subcategory" of its category. A
category without active subcategories is itself a combination (tickets then carry no
subcategory). Everything is computed in the database so the report pages like any list.
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from portal.catalog.models import Category, ClassificationMapping, Subcategory, Team


def _routed() -> QuerySet:
    return ClassificationMapping.objects.filter(team__is_active=True)


def _inactive_team_name(**match) -> Subquery:
    """Name of an inactive team a mapping still points at: the reason for some gaps."""
    return Subquery(
        ClassificationMapping.objects.filter(team__is_active=False, **match).values("team__name")[
            :1
        ]
    )


def subcategory_gaps(*, group_id: int | None = None) -> QuerySet:
    """Active subcategories (of active categories and groups) that reach no active team."""
    subs = Subcategory.objects.filter(
        is_active=True, category__is_active=True, category__group__is_active=True
    )
    if group_id:
        subs = subs.filter(category__group_id=group_id)
    return (
        subs.annotate(
            has_own=Exists(_routed().filter(subcategory=OuterRef("pk"))),
            has_any=Exists(
                _routed().filter(category=OuterRef("category_id"), subcategory__isnull=True)
            ),
            # The subcategory's own route wins, as in find_mapping.
            inactive_team=Coalesce(
                _inactive_team_name(subcategory=OuterRef("pk")),
                _inactive_team_name(category=OuterRef("category_id"), subcategory__isnull=True),
            ),
        )
        .filter(has_own=False, has_any=False)
        .select_related("category__group")
        .order_by("category__group__name", "category__name", "name")
    )


def category_gaps(*, group_id: int | None = None) -> QuerySet:
    """Active categories with no active subcategory and no "any subcategory" route."""
    cats = Category.objects.filter(is_active=True, group__is_active=True)
    if group_id:
        cats = cats.filter(group_id=group_id)
    return (
        cats.annotate(
            has_subs=Exists(Subcategory.objects.filter(category=OuterRef("pk"), is_active=True)),
            has_any=Exists(_routed().filter(category=OuterRef("pk"), subcategory__isnull=True)),
            inactive_team=_inactive_team_name(category=OuterRef("pk"), subcategory__isnull=True),
        )
        .filter(has_subs=False, has_any=False)
        .select_related("group")
        .order_by("group__name", "name")
    )


@dataclass(frozen=True)
class Summary:
    combinations: int
    gaps: int

    @property
    def covered(self) -> int:
        return self.combinations - self.gaps

    @property
    def percent(self) -> int:
        """Rounded down, so 99.9 % never shows as complete."""
        return 100 if not self.combinations else self.covered * 100 // self.combinations


def summary(*, group_id: int | None = None) -> Summary:
    """Four counts, whatever the size of the catalogue."""
    subs = Subcategory.objects.filter(
        is_active=True, category__is_active=True, category__group__is_active=True
    )
    leaf_cats = Category.objects.filter(is_active=True, group__is_active=True).exclude(
        Exists(Subcategory.objects.filter(category=OuterRef("pk"), is_active=True))
    )
    if group_id:
        subs = subs.filter(category__group_id=group_id)
        leaf_cats = leaf_cats.filter(group_id=group_id)
    combinations = subs.count() + leaf_cats.count()
    gaps = subcategory_gaps(group_id=group_id).count() + category_gaps(group_id=group_id).count()
    return Summary(combinations=combinations, gaps=gaps)


def suggest_teams(categories: list[Category]) -> dict[int, int]:
    """category id → the team most mappings in that category (else its group) go to.

    One query for a whole page of gaps; the coverage report preselects the suggestion so
    closing a typical gap is one click.
    """
    if not categories:
        return {}
    group_ids = {c.group_id for c in categories}
    by_category: dict[int, Counter] = {}
    by_group: dict[int, Counter] = {}
    rows = _routed().filter(category__group_id__in=group_ids)
    for category_id, group_id, team_id in rows.values_list(
        "category_id", "category__group_id", "team_id"
    ):
        by_category.setdefault(category_id, Counter())[team_id] += 1
        by_group.setdefault(group_id, Counter())[team_id] += 1
    suggestions = {}
    for category in categories:
        counter = by_category.get(category.pk) or by_group.get(category.group_id)
        if counter:
            suggestions[category.pk] = counter.most_common(1)[0][0]
    return suggestions


def active_teams() -> list[Team]:
    return list(Team.objects.active().order_by("name").only("id", "name"))
