"""The ticket list's page (and a search's ids) through statements compiled once per shape.

Building the list's queryset (the access rules, a saved view, the filters, a search's
UNION of branches, the cursor) and compiling it to SQL cost about a third of a list
page's Python, on every request, for a statement that differs between requests only in
its values. Here the inputs of `filters.filtered_tickets` are split into a *shape*, what
decides the statement's text (which filters are present and how many values each holds,
the saved view, the sort, the page size, whether there is a cursor, a search, a ticket
number, the person's role flags and how many ids each of their roles holds), and the
*values* (the person's id, their team and group ids, the chosen statuses, ids, email
addresses, the search text, the cursor's values). The ORM builds the statement once per
shape and process, for a stand-in person (`access.stand_in_user`: the access rules are
the access layer's own, asked of someone with the same roles and stand-in ids) and
stand-in values, and every request runs it with its own values
(portal/lib/compiled.py). The statement derives from the code and the shape alone, so
every process computes the same one and none can be stale; no row, id or text of a
request outlives it. The statements kept are bounded (`compiled._shapes`, apart from the
code's own statements): a query string can ask for a new shape, not for more memory.

What is not compiled goes through the ORM as before (`shape` answers None): the filters
whose values the ORM rewrites or that depend on the time of the request (a form answer,
the SLA state), a "highest priority" cursor (its small-integer column
takes no stand-in), a person who reaches nothing, and search on SQLite (substring
matching rewrites the text). tests/test_list_page.py holds the compiled rows equal to the
ORM's for every saved view, filter, sort and cursor, for each persona.
"""

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import connections, router
from django.db.models import QuerySet

from portal.accounts.roles import Roles
from portal.lib import compiled, keyset
from portal.tickets import access, page_rows, search
from portal.tickets.models import Ticket, parse_number

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.accounts.types import Visitor

# The filters a shape holds; any other with a value leaves the page to the ORM (a filter
# added to the form and not here can never be silently left out of the statement).
COMPILED_FIELDS = frozenset(
    {"view", "q", "status", "priority", "group", "category", "subcategory", "team",
     "assignee", "requester", "created_from", "created_to", "updated_from", "updated_to",
     "sort", "per_page", "after"}
)  # fmt: skip
# The date ranges, given as the times they start and end (`filters.range_start`,
# `range_end`): the times are the statement's values.
DATE_RANGES = ("created_from", "created_to", "updated_from", "updated_to")
PEOPLE = ("requester", "assignee")
NO_TEAM = "none"  # filters.NO_TEAM (filters imports this module)


class Slot(NamedTuple):
    """Where a value goes: its index in the values of a shape."""

    place: int


Filtered = Callable[..., QuerySet]


def shape(
    data: dict[str, Any],
    user: "Visitor",
    roles: Roles,
    *,
    sort_key: str,
    per_page: int,
    cursor: list | None,
    using: str,
) -> tuple[tuple, list] | None:
    """(shape, values) of a page of the list, or None when it goes through the ORM."""
    if any(value for name, value in data.items() if name not in COMPILED_FIELDS):
        return None
    reach = access.reach_of(user)
    if reach.user_id is None or (cursor and sort_key == "-priority"):
        return None
    text = search.normalise(data.get("q") or "")
    if text and connections[using].vendor != "postgresql":
        return None
    values: list = []

    def slot(value: object) -> Slot:
        values.append(value)
        return Slot(len(values) - 1)

    def person(value: str | None) -> str | Slot:
        return value if value in ("me", "none") else slot(value) if value else ""

    team = data.get("team")
    number = parse_number(text) if text else None
    template = (
        ("user", slot(reach.user_id)),
        # Every field of the person's roles, so a rule the access layer adds on a new
        # one can never be left out of the shape: flags as they are, ids as values.
        *(
            (f"roles.{name}", value if isinstance(value, bool) else tuple(map(slot, sorted(value))))
            for name, value in ((f.name, getattr(roles, f.name)) for f in fields(Roles))
        ),
        ("view", data.get("view") or "all"),
        # Each chosen code once (as the ORM's IN does): a statement per number of codes,
        # at most the choices', however many times a query string repeats one.
        *(
            (name, tuple(slot(value) for value in dict.fromkeys(data.get(name) or ())))
            for name in ("status", "priority")
        ),
        *(
            (name, None if data.get(name) is None else slot(data[name].pk))
            for name in ("group", "category", "subcategory")
        ),
        ("team", NO_TEAM if team == NO_TEAM else None if team is None else slot(team)),
        ("assignee", person(data.get("assignee"))),
        ("requester", person(data.get("requester"))),
        *((name, slot(data[name]) if data.get(name) else None) for name in DATE_RANGES),
        ("q", slot(text) if text else None),
        ("number", None if number is None else slot(number)),
        ("sort", sort_key),
        ("per_page", per_page),
        ("after", None if not cursor else tuple(slot(value) for value in cursor)),
    )
    return template, values


def _places(template: tuple, *names: str) -> set[int]:
    """The values' places of the parts `names` of `template`."""
    parts = dict(template)
    places = set()
    for name in names:
        part = parts[name]
        for item in (part,) if isinstance(part, Slot) or not isinstance(part, tuple) else part:
            if isinstance(item, Slot):
                places.add(item.place)
    return places


# The parts of a shape that keep some tickets only (filters.filtered_tickets).
NARROWING_FIELDS = COMPILED_FIELDS - {"view", "q", "sort", "per_page", "after"}


def _narrowed(template: tuple, user: "Visitor") -> bool:
    """Whether the shape's list holds fewer than every ticket: the person's reach, a
    saved view, a filter, or "SLA due soonest" (open tickets)."""
    parts = dict(template)
    return (
        not access.reach_of(user).everything
        or parts["view"] != "all"
        or parts["sort"] == "sla_due"
        or any(parts[name] not in (None, (), "") for name in NARROWING_FIELDS)
    )


def _inputs(template: tuple, values: tuple) -> tuple[dict[str, Any], "User", dict[str, Any]]:
    """The form data and stand-in person `template` stands for, with `values` filled in,
    and the person's roles, the ticket number searched for and the cursor's values."""
    parts = dict(template)

    def fill(item: Any) -> Any:
        if isinstance(item, Slot):
            return values[item.place]
        if isinstance(item, tuple):
            return [fill(one) for one in item]
        return item

    given: dict[str, Any] = {}
    for f in fields(Roles):
        part = parts[f"roles.{f.name}"]
        given[f.name] = part if isinstance(part, bool) else frozenset(fill(part))
    roles = Roles(**given)
    user = access.stand_in_user(fill(parts["user"]), roles)
    data = {name: fill(parts[name]) for name in COMPILED_FIELDS - {"after"}}
    more = {"roles": roles, "number": fill(parts["number"]), "after": fill(parts["after"])}
    return data, user, more


def page(
    data: dict[str, Any],
    user: "Visitor",
    roles: Roles,
    *,
    sort_key: str,
    sort: keyset.Sort,
    per_page: int,
    cursor: list | None,
    filtered: Filtered,
) -> list[Ticket] | None:
    """Up to `per_page + 1` tickets of the page in `sort` order (the extra one says there
    is more), their people named as the ORM's page names them (id, name, address); None
    when the shape is not compiled (the caller asks the ORM)."""
    using = router.db_for_read(Ticket)
    found = shape(
        data, user, roles, sort_key=sort_key, per_page=per_page, cursor=cursor, using=using
    )
    if found is None:
        return None
    template, values = found
    # Which of the person's ids a statement reads is the access layer's rule for their
    # roles (an admin's reads none); every filter's and the cursor's values must be read.
    person = _places(template, "user", *(f"roles.{f.name}" for f in fields(Roles)))
    ids: list[int] | None = None
    if dict(template)["q"] is not None:

        def ids_by(
            reader: Callable[..., QuerySet], walked: bool = False
        ) -> Callable[..., QuerySet]:
            def build_ids(*stand_ins: object) -> QuerySet:
                data, user, more = _inputs(template, stand_ins)
                after = keyset.after_condition(sort, more["after"]) if more["after"] else None
                # The edge's values follow the shape's; a walk with no edge has none.
                edge = {"edge": tuple(stand_ins[len(values) :])} if walked else {}
                return reader(
                    filtered(data, user, more["roles"], {}, search=False),
                    user,
                    data["q"],
                    order_by=sort.order_by(),
                    after=after,
                    limit=per_page + 1,
                    number=more["number"],
                    **edge,
                )

            return build_ids

        def edge_at(size: int) -> list[tuple]:
            # The edge reads the sort and the cursor only: one statement per sort,
            # cursor or not, and window, whatever the rest of the shape.
            def build_edge(*after: object) -> QuerySet:
                condition = keyset.after_condition(sort, list(after)) if after else None
                return search.window_edge(sort.order_by(), condition, size)

            return compiled.rows(
                f"ticket list: search window edge {sort_key} {size} after: {bool(cursor)}",
                build_edge,
                list(cursor or ()),
                using=using,
            )

        def run(reader: Callable[..., QuerySet], edge: tuple | None = None) -> list[tuple]:
            walked = "" if edge is None else f"walked, {len(edge)} edge keys"
            return compiled.rows(
                f"ticket list: search {reader.__name__} {walked} {template}",
                ids_by(reader, walked=edge is not None),
                [*values, *(edge or ())],
                using=using,
                may_be_unused=person,
                shaped=True,
            )

        rows = search.read_page_ids(
            user,
            per_page + 1,
            narrowed=_narrowed(template, user),
            names_a_ticket=search.names_a_ticket(data["q"]),
            edge=edge_at,
            union=lambda edge: run(search.page_ids_union, edge),
            indexed=lambda: run(search.page_ids_indexed),
        )
        ids = list(dict.fromkeys(row[0] for row in rows))
        if not ids:
            return []
    columns = page_rows.columns(Ticket, *PEOPLE)
    page_template = (*template, ("ids", None if ids is None else len(ids)))

    def build_page(*stand_ins: object) -> QuerySet:
        data, user, more = _inputs(template, stand_ins)
        queryset = filtered(data, user, more["roles"], {}, search=False)
        if ids is not None:
            queryset = queryset.filter(pk__in=stand_ins[len(values) :])
        queryset = queryset.order_by(*sort.order_by())
        if more["after"]:
            queryset = queryset.filter(keyset.after_condition(sort, more["after"]))
        return queryset.values_list(*columns)[: per_page + 1]

    rows = compiled.rows(
        f"ticket list: page {page_template}",
        build_page,
        [*values, *(ids or ())],
        using=using,
        # A search's page reads its tickets by id, not its words or number again.
        may_be_unused=person | _places(template, "q", "number"),
        shaped=True,
    )
    return page_rows.instances(Ticket, rows, *PEOPLE, using=using)
