"""Shared reads of master data."""

from collections import defaultdict
from collections.abc import Sequence

from django.core.cache import cache
from django.db.models import Model
from django.db.models.base import ModelState

from portal.accounts.models import User
from portal.catalog import request_forms
from portal.catalog.invalidation import LISTED_PERSON_FIELDS, MASTERS, PEOPLE
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    FormField,
    Subcategory,
    Team,
    TeamMember,
)
from portal.lib.cache_versions import cache_answering, cached, cached_together, versioned_key
from portal.lib.memo import VersionMemo

CACHE_SECONDS = 24 * 3600
# How many rows of a master table one miss brings (attach_master_rows): all of them in
# any catalogue seen so far (219 in the benchmark's), and a bound for one that is not.
WHOLE_TABLE_ROWS = 2000
# The classification and team every ticket points at: foreign key name → model.
MASTER_ROWS = {
    "group": BusinessUnitGroup,
    "category": Category,
    "subcategory": Subcategory,
    "team": Team,
}


def attach_master_rows(objects: Sequence) -> None:
    """Set each object's group, category, subcategory and team from the shared cache.

    A page of tickets used to look the four up by primary key (four queries on every list
    and search page); the rows are the same for every page until master data changes, so
    they are cached one per key under the "masters" version (any write to the catalogue
    starts a new one) and a page reads only the ids it shows: one cache read, no query.
    The process keeps the rows of the version it last read (`_ROWS`), so a page
    reads the cache only for rows it has not seen yet: unpickling the rows from the
    memory cache on every list was 7 % of a list's time at 1,000,000 tickets.

    A row not cached yet brings its table, up to WHOLE_TABLE_ROWS rows (one query per
    model), cached for the pages after: master tables are small, and a process with its
    own memory cache that has just started, or everyone after a catalogue change, would
    otherwise read a few rows on most of its first few hundred pages (a ticket page's
    first visit read its rows on 165 of 300 tickets; docs/benchmarks.md). While the
    cache does not answer, only the rows asked for are read.
    """
    if not objects:
        return
    prefix = versioned_key(MASTERS, "row")
    known = _ROWS.under(prefix)
    wanted = {
        (name, pk)
        for obj in objects
        for name in MASTER_ROWS
        if (pk := getattr(obj, f"{name}_id")) is not None
    }
    if lacking := wanted - known.keys():
        known.update(_shared_rows(prefix, lacking))
    # One copy per row for this call, shared by its objects as one query's rows would be.
    rows = {key: _own_copy(known[key]) for key in wanted if key in known}
    for obj in objects:
        # What the foreign key's descriptor would leave (its id is the row's already),
        # without its checks on every object: 12 % of a list's `page` in the profile.
        attach = obj._state.fields_cache.__setitem__ if isinstance(obj, Model) else obj.__setattr__
        for name in MASTER_ROWS:
            pk = getattr(obj, f"{name}_id")
            if pk is None:
                attach(name, None)
            elif (row := rows.get((name, pk))) is not None:
                attach(name, row)


def _shared_rows(prefix: str, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Model]:
    """The rows asked for from the shared cache, and from the database those it lacks (with
    their whole tables, cached for the pages after, while the cache answers)."""
    keys = {f"{prefix}:{name}:{pk}": (name, pk) for name, pk in wanted}
    found = {keys[key]: row for key, row in cache.get_many(list(keys)).items()}
    missing: dict[str, set[int]] = defaultdict(set)
    for name, pk in wanted - found.keys():
        missing[name].add(pk)
    if missing:
        whole = cache_answering()
        fresh = {}
        for name, ids in missing.items():
            model = MASTER_ROWS[name]
            rows = {}
            if whole:
                rows = {row.pk: row for row in model.objects.order_by("pk")[:WHOLE_TABLE_ROWS]}
            if lacking := ids - rows.keys():  # a larger table, or a cache that is down
                rows.update(model.objects.in_bulk(lacking))
            for pk, row in rows.items():
                fresh[f"{prefix}:{name}:{pk}"] = row
                found[(name, pk)] = row
        cache.set_many(fresh, CACHE_SECONDS)
    return found


# This process's master rows under the "masters" version the request read (only rows that
# exist: at most the master tables); callers get copies (`_own_copy`).
_ROWS: VersionMemo[tuple[str, int], Model] = VersionMemo()


def _own_copy(row: Model) -> Model:
    """The process's row as a caller's own: what it sets or caches on it (a related row,
    prefetched people) stays with that caller and never reaches the next request. The
    copy is shallow: master rows hold only immutable values (text, numbers, flags, times);
    a mutable field (JSON) on a master model would need copying here too."""
    copy = row.__class__.__new__(row.__class__)
    copy.__dict__ = {**row.__dict__, "_state": ModelState()}
    copy._state.adding = False
    copy._state.db = row._state.db
    return copy


def master_row(name: str, pk: int):
    """One row of MASTER_ROWS[name] by id, from the same cache as `attach_master_rows`
    (one query when not cached yet); None when there is no such row.

    The id comes from a form or the API, so "no such row" is not kept: a made-up id adds
    no cache entry (nor pushes real rows out of a process's memory cache)."""
    prefix = versioned_key(MASTERS, "row")
    known = _ROWS.under(prefix)
    if (row := known.get((name, pk))) is not None:
        return _own_copy(row)
    # The key `attach_master_rows` builds for the row ("row:<name>:<pk>" under the version).
    row = cached(
        MASTERS,
        ["row", name, pk],
        lambda: MASTER_ROWS[name].objects.filter(pk=pk).first(),
        timeout=CACHE_SECONDS,
        keep_none=False,
    )
    if row is not None:
        known[(name, pk)] = row
        return _own_copy(row)
    return None


def active_spocs(group_id: int) -> list:
    """The group's active SPOCs by name, as accounts holding only what telling them
    needs (`LISTED_PERSON_FIELDS`: name, address, active; no password hash goes to the
    cache), cached until a SPOC is named or removed, the catalogue changes, or an
    account's name, address or active flag changes (`invalidation`): read for every
    ticket raised."""
    return cached(
        PEOPLE,
        ["group", group_id],
        lambda: list(
            User.objects.filter(spoc_groups=group_id, is_active=True)
            .only(*LISTED_PERSON_FIELDS)
            .order_by("full_name", "email")
        ),
        timeout=CACHE_SECONDS,
    )


def team_member_choices(team_id: int) -> list[tuple[int, str]]:
    """(id, name) of the team's active members who are active accounts, by name then
    email (the ticket page's "assign to" list), cached as the SPOC lists are (`PEOPLE`):
    until the catalogue changes (a membership among it) or an account's name, address or
    active flag does (`invalidation`).

    A team not cached yet brings every team's list, in one query: a process that has just
    started would otherwise read one team's on most of its first ticket pages."""
    return cached_together(
        PEOPLE,
        "team-members",
        team_id,
        _every_team_members,
        lambda: _team_members(team_id),
        timeout=CACHE_SECONDS,
        default=[],
    )


def _team_members(team_id: int) -> list[tuple[int, str]]:
    """One team's list, as `_every_team_members` writes each (while the cache is down)."""
    return _every_team_members(team_id).get(team_id, [])


def _every_team_members(only: int | None = None) -> dict[int, list[tuple[int, str]]]:
    """Each team's active members with active accounts, by name then address (every
    team, with [] for one without members; or the team `only`)."""
    rows = (
        TeamMember.objects.filter(is_active=True, user__is_active=True)
        .order_by("user__full_name", "user__email", "user_id")
        .values_list("team_id", "user_id", "user__full_name", "user__email")
    )
    teams: dict[int, list[tuple[int, str]]] = {}
    if only is not None:
        rows = rows.filter(team_id=only)
    else:
        teams = {pk: [] for pk in Team.objects.values_list("pk", flat=True)}
    for team_id, user_id, full_name, email in rows:
        # As `User.__str__` names them.
        teams.setdefault(team_id, []).append((user_id, full_name or email))
    return teams


def active_team_choices() -> list[tuple[int, str]]:
    """(id, name) of the active teams by name, cached until master data changes (the
    bulk-action select of every ticket list page)."""
    return cached(
        MASTERS,
        ["active-teams"],
        lambda: list(Team.objects.active().order_by("name").values_list("pk", "name")),
        timeout=CACHE_SECONDS,
    )


def form_definitions(category_id: int | None, subcategory_id: int | None) -> dict[str, FormField]:
    """`request_forms.definitions_for`, cached until master data changes (every write to
    a form field bumps it): the page of each ticket with request-form answers read them."""
    if not category_id:
        return {}
    return cached(
        MASTERS,
        ["form-definitions", category_id, subcategory_id],
        lambda: request_forms.definitions_for(category_id, subcategory_id),
        timeout=CACHE_SECONDS,
    )


def find_mapping(*, category_id: int, subcategory_id: int | None) -> ClassificationMapping | None:
    """The mapping for a classification: the subcategory's own wins over "any subcategory".

    Mappings to inactive teams are ignored (the ticket then waits for the SPOC). One query,
    then the answer (with its team) comes from the shared cache until master data changes:
    every ticket raised asks it.
    """
    return cached(  # None (no mapping) too
        MASTERS,
        ["mapping", category_id, subcategory_id or 0],
        lambda: _find_mapping(category_id, subcategory_id),
        timeout=CACHE_SECONDS,
    )


def _find_mapping(category_id: int, subcategory_id: int | None) -> ClassificationMapping | None:
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
