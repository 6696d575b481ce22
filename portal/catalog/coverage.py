"""The coverage report: which active classifications would reach nobody who can work them.

A combination is covered when a ticket raised there is assigned to a person on the spot:
`selectors.find_mapping` finds an active team for it (a mapping naming the subcategory, or
one for "any subcategory" of its category) *and* that team has an active member with an
active account. A route to a team nobody is in counts as a gap, like a missing route:
tickets raised there wait for the group's SPOCs, or the admins on triage duty (see
docs/tickets.md, "Routing"). A category without active subcategories is itself a
combination (tickets then carry no subcategory).

Besides combinations the report lists what makes gaps: active teams with no active member,
active groups with no active SPOC (their gaps fall through to triage), and mappings that
point at an inactive team. Everything is computed in the database so the report pages
like any list.
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from portal.accounts.models import User
from portal.accounts.triage import triage_admins
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
    Team,
    TeamMember,
)

# How many of each structural problem the report shows (each list is short in practice;
# the count above it says when there are more).
PROBLEM_ROWS = 50


def staffed(team_ref) -> Exists:
    """The team (an OuterRef or id) has someone to give a ticket to."""
    return Exists(TeamMember.objects.filter(team=team_ref, is_active=True, user__is_active=True))


def _routed() -> QuerySet:
    """Mappings find_mapping would use (their team is active), staffed or not."""
    return ClassificationMapping.objects.filter(team__is_active=True)


def _staffed_routes() -> QuerySet:
    return _routed().filter(staffed(OuterRef("team_id")))


def _team_name(routes: QuerySet, **match) -> Subquery:
    return Subquery(routes.filter(**match).values("team__name")[:1])


def _inactive_team_name(**match) -> Subquery:
    """Name of an inactive team a mapping still points at: the reason for some gaps."""
    return _team_name(ClassificationMapping.objects.filter(team__is_active=False), **match)


def subcategory_gaps(*, group_id: int | None = None) -> QuerySet:
    """Active subcategories (of active categories and groups) that reach no team member.

    `routed_team` names the active team a ticket would go to (which then has nobody in
    it); when there is none, `inactive_team` names an inactive team a mapping points at.
    """
    subs = Subcategory.objects.filter(
        is_active=True, category__is_active=True, category__group__is_active=True
    )
    if group_id:
        subs = subs.filter(category__group_id=group_id)
    own, any_sub = (
        {"subcategory": OuterRef("pk")},
        {
            "category": OuterRef("category_id"),
            "subcategory__isnull": True,
        },
    )
    return (
        subs.annotate(
            own_routed=Exists(_routed().filter(**own)),
            own_staffed=Exists(_staffed_routes().filter(**own)),
            any_staffed=Exists(_staffed_routes().filter(**any_sub)),
            # The subcategory's own route wins, as in find_mapping.
            routed_team=Coalesce(_team_name(_routed(), **own), _team_name(_routed(), **any_sub)),
            inactive_team=Coalesce(_inactive_team_name(**own), _inactive_team_name(**any_sub)),
        )
        .filter(Q(own_staffed=False) & (Q(own_routed=True) | Q(any_staffed=False)))
        .select_related("category__group")
        .order_by("category__group__name", "category__name", "name")
    )


def category_gaps(*, group_id: int | None = None) -> QuerySet:
    """Active categories with no active subcategory whose "any subcategory" route reaches
    no team member."""
    cats = Category.objects.filter(is_active=True, group__is_active=True)
    if group_id:
        cats = cats.filter(group_id=group_id)
    any_sub = {"category": OuterRef("pk"), "subcategory__isnull": True}
    return (
        cats.annotate(
            has_subs=Exists(Subcategory.objects.filter(category=OuterRef("pk"), is_active=True)),
            any_staffed=Exists(_staffed_routes().filter(**any_sub)),
            routed_team=_team_name(_routed(), **any_sub),
            inactive_team=_inactive_team_name(**any_sub),
        )
        .filter(has_subs=False, any_staffed=False)
        .select_related("group")
        .order_by("group__name", "name")
    )


def teams_without_members() -> QuerySet:
    """Active teams with nobody to give a ticket to."""
    return Team.objects.active().exclude(staffed(OuterRef("pk"))).order_by("name")


def groups_without_spoc() -> QuerySet:
    """Active groups with no active SPOC: their gaps go to the admins on triage duty."""
    spocs = User.objects.filter(spoc_groups=OuterRef("pk"), is_active=True)
    return BusinessUnitGroup.objects.active().exclude(Exists(spocs)).order_by("name")


def mappings_to_inactive_teams() -> QuerySet:
    return (
        ClassificationMapping.objects.filter(team__is_active=False)
        .select_related("category__group", "subcategory", "team")
        .order_by("category__group__name", "category__name", "subcategory__name")
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


@dataclass(frozen=True)
class Problems:
    """What makes gaps, as short lists with their full counts."""

    teams: list
    team_count: int
    groups: list
    group_count: int
    mappings: list
    mapping_count: int
    triage_count: int  # admins on triage duty, who receive the gaps of groups with no SPOC

    @property
    def any(self) -> bool:
        return bool(self.team_count or self.group_count or self.mapping_count)


def _head(queryset: QuerySet) -> tuple[list, int]:
    rows = list(queryset[: PROBLEM_ROWS + 1])
    count = len(rows) if len(rows) <= PROBLEM_ROWS else queryset.count()
    return rows[:PROBLEM_ROWS], count


def problems() -> Problems:
    """Four queries (one more per list longer than PROBLEM_ROWS)."""
    teams, team_count = _head(teams_without_members())
    groups, group_count = _head(groups_without_spoc())
    mappings, mapping_count = _head(mappings_to_inactive_teams())
    return Problems(
        teams, team_count, groups, group_count, mappings, mapping_count, triage_admins().count()
    )


def first_gap() -> str:
    """One gap as a sentence, or "" when every ticket reaches a team member and every group
    has a SPOC. The triage rule asks this (registered with accounts.triage)."""
    if sub := subcategory_gaps().first():
        return f"{sub.category.group} / {sub.category} / {sub} reaches no team member"
    if cat := category_gaps().first():
        return f"{cat.group} / {cat} reaches no team member"
    if team := teams_without_members().first():
        return f"{team} has no active members"
    if group := groups_without_spoc().first():
        return f"{group} has no SPOC"
    return ""


@dataclass(frozen=True)
class GapSnapshot:
    structural: frozenset[str]
    uncovered: int


def gap_snapshot() -> GapSnapshot:
    """Every structural gap as a sentence, and the number of uncovered combinations.

    Master-data screens take one before and one after a change and warn about what the
    change created (`new_gaps`). Seven queries; the structural lists are short in any real
    organisation (they are what the report asks to fix).
    """
    found = {f"{team} has no active members" for team in teams_without_members()}
    found |= {f"{group} has no SPOC" for group in groups_without_spoc()}
    found |= {
        f"{m.category.group} / {m.category} / {m.subcategory or 'any subcategory'} is mapped "
        f"to {m.team}, which is inactive"
        for m in mappings_to_inactive_teams()
    }
    return GapSnapshot(frozenset(found), summary().gaps)


def new_gaps(before: GapSnapshot, after: GapSnapshot) -> list[str]:
    """Warnings for what a change created: new structural gaps, and a rise in the number of
    combinations that reach no team member."""
    warnings = sorted(after.structural - before.structural)
    if after.uncovered > before.uncovered:
        n = after.uncovered - before.uncovered
        warnings.append(
            f"{n} more combination{'s' if n != 1 else ''} now reach{'' if n != 1 else 'es'} "
            f"no team member ({after.uncovered} in all)"
        )
    return warnings


def suggest_teams(categories: list[Category]) -> dict[int, int]:
    """category id → the team most mappings in that category (else its group) go to.

    One query for a whole page of gaps; the coverage report preselects the suggestion so
    closing a typical gap is one click. Only staffed teams are suggested.
    """
    if not categories:
        return {}
    group_ids = {c.group_id for c in categories}
    by_category: dict[int, Counter] = {}
    by_group: dict[int, Counter] = {}
    rows = _staffed_routes().filter(category__group_id__in=group_ids)
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
