"""Gaps an import would leave, among the things its file names (issue 17's "gaps you can
see before they bite", for the Excel import preview).

Three kinds, each a place where a ticket would reach nobody who can act:
- a combination (group / category / subcategory, or a category without subcategories)
  that reaches no active team: no mapping, or only mappings to inactive teams;
- a team such a combination reaches that has no active member;
- a group with no active SPOC.

Worked out on the plan's objects (the catalogue as it would be after the import, nothing
written) with two queries. It follows the rule of `selectors.find_mapping` and of the
coverage report (`coverage.py`): the subcategory's own mapping to an active team wins,
then the category's "any subcategory" mapping; a mapping to an inactive team is ignored.
The coverage report covers the whole catalogue; this covers only what the file names, so
that a preview does not repeat gaps elsewhere.
"""

from dataclasses import dataclass

from portal.accounts.models import User
from portal.catalog.models import ClassificationMapping, Team, TeamMember

NO_TEAM = "no_team"
NO_MEMBER = "no_member"
NO_SPOC = "no_spoc"


@dataclass(frozen=True)
class Gap:
    kind: str  # NO_TEAM | NO_MEMBER | NO_SPOC
    subject: str  # "IT / Hardware / Laptop", a team's or a group's name
    reason: str
    row: int  # the first row of the file that names the subject


@dataclass(frozen=True)
class Named:
    """One row's classification as the plan resolved it (objects may be unsaved)."""

    row: int
    group: object
    category: object | None
    subcategory: object | None


def find_gaps(*, named: list[Named], state, writes: dict) -> list[Gap]:
    """The gaps among `named`, given the loaded catalogue `state` and the plan's `writes`."""
    new_mappings = {
        (id(m.category), id(m.subcategory) if m.subcategory else None): m
        for m in writes["mappings"].values()
    }
    teams_by_id = {team.pk: team for team in state.teams.values()}

    def route(category, subcategory) -> ClassificationMapping | None:
        key = (id(category), id(subcategory) if subcategory else None)
        mapping = new_mappings.get(key)
        if mapping is None and category.pk and (subcategory is None or subcategory.pk):
            mapping = state.mappings.get((category.pk, subcategory.pk if subcategory else None))
        return mapping

    def team_of(mapping: ClassificationMapping) -> Team:
        if mapping.team_id is None or "team" in mapping._state.fields_cache:
            return mapping.team  # set by the plan (possibly a team it creates)
        return teams_by_id[mapping.team_id]

    # Categories with an active subcategory: new ones by object, saved ones by id.
    new_parents = {id(s.category) for s in writes["subs"].values() if s.is_active}
    saved_parents = {
        category_id for (category_id, _), s in state.subcategories.items() if s.is_active
    }

    gaps: list[Gap] = []
    reached: dict[int, tuple[Team, int]] = {}
    seen_groups: dict[int, tuple[object, int]] = {}
    seen_combinations: set[tuple[int, int | None]] = set()
    for item in named:
        group, category, sub = item.group, item.category, item.subcategory
        seen_groups.setdefault(id(group), (group, item.row))
        if category is None or not (group.is_active and category.is_active):
            continue
        if sub is None and (id(category) in new_parents or category.pk in saved_parents):
            continue  # the category's subcategories are the combinations
        if sub is not None and not sub.is_active:
            continue
        key = (id(category), id(sub) if sub else None)
        if key in seen_combinations:
            continue
        seen_combinations.add(key)
        candidates = [route(category, sub)] if sub is not None else []
        candidates.append(route(category, None))
        teams = [team_of(m) for m in candidates if m is not None]
        active = next((team for team in teams if team.is_active), None)
        label = " / ".join(str(x.name) for x in (group, category, sub) if x is not None)
        if active is not None:
            reached.setdefault(id(active), (active, item.row))
        elif teams:
            gaps.append(
                Gap(NO_TEAM, label, f"mapped only to the inactive team {teams[0]}", item.row)
            )
        else:
            gaps.append(Gap(NO_TEAM, label, "no team is mapped", item.row))

    saved_team_ids = [team.pk for team, _ in reached.values() if team.pk]
    staffed = set(
        TeamMember.objects.filter(
            team_id__in=saved_team_ids, is_active=True, user__is_active=True
        ).values_list("team_id", flat=True)
    )
    for team, row in reached.values():
        if team.pk not in staffed:
            why = "a new team: add its members after the import" if not team.pk else ""
            gaps.append(Gap(NO_MEMBER, team.name, why or "it has no active member", row))

    spoc_ids = {
        user_id
        for group, _ in seen_groups.values()
        for user_id in _spocs_after(group, state, writes)
    }
    active_users = set(
        User.objects.filter(pk__in=spoc_ids, is_active=True).values_list("pk", flat=True)
    )
    for group, row in seen_groups.values():
        if group.is_active and not (_spocs_after(group, state, writes) & active_users):
            gaps.append(Gap(NO_SPOC, group.name, "no active SPOC is named", row))
    return sorted(gaps, key=lambda gap: (gap.kind, gap.row, gap.subject))


def _spocs_after(group, state, writes: dict) -> set[int]:
    if group.name_key in writes["spocs"]:
        return set(writes["spocs"][group.name_key][1])
    return set(state.spocs.get(group.pk, ())) if group.pk else set()
