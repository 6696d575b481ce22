"""The ticket page's rows made model instances, as the ORM would have made them.

The page's reads (`access.get_ticket_for_page`, `access.page_comments`,
`access.page_events`) run statements compiled once per process (portal/lib/compiled.py):
building and compiling their querysets cost the page more Python than the database took
to answer them. Those statements select columns (`columns`, or `looked_up` for one
ticket's page), and `instance` makes of a row what the querysets made: the model with its
own fields, and each person it names as `accounts.selectors.naming` names them (id, name and
email; reading another of their fields costs a query, which the page's pinned query counts
would show).
"""

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, ForeignKey, Model, OuterRef, Subquery

from portal.accounts.models import User
from portal.accounts.selectors import NAME_FIELDS

# In the model's field order: `Model.from_db` takes a subset of the fields in that order.
_PERSON = [f.attname for f in User._meta.concrete_fields if f.attname in NAME_FIELDS]


def _own(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def columns(model: type[Model], *people: str) -> list[str]:
    """What a `values_list` selects for `instance`: the model's own columns, then each
    person's (`people`: the names of foreign keys to users)."""
    return [*_own(model), *(f"{person}__{name}" for person in people for name in _PERSON)]


def looked_up(model: type[Model], *people: str) -> list[str | F | Subquery]:
    """What `columns` selects, with each person's name and address read by a lookup of
    their row by its id (a subquery per value) rather than a join.

    A join costs more planning than the lookups: the ticket page's read of its ticket with
    both people joined took 0.50 ms to plan, 0.31 ms with the lookups (docs/benchmarks.md,
    "The ticket page's first visit, its planning, and what a round trip costs"). That read
    is now planned once per connection (`portal.lib.plans`), but its first runs on each
    connection and every run without prepared statements (pgbouncer) are planned. A page
    of rows is read the other way (`columns`): there the lookups would run once per row.
    """
    selected: list[str | F | Subquery] = list(_own(model))
    for person in people:
        field = model._meta.get_field(person)
        assert isinstance(field, ForeignKey)
        rows = User.objects.filter(pk=OuterRef(field.attname)).order_by()
        selected.extend(
            F(field.attname) if name == "id" else Subquery(rows.values(name)) for name in _PERSON
        )
    return selected


def instance[M: Model](
    model: type[M], row: Sequence[Any], *people: str, using: str = DEFAULT_DB_ALIAS
) -> M:
    """The model of a row of `columns(model, *people)` or `looked_up(model, *people)`;
    `row` may go on beyond them (a query's annotations), which is left to the caller."""
    own = _own(model)
    made = model.from_db(using, own, row[: len(own)])
    start = len(own)
    for person in people:
        values = row[start : start + len(_PERSON)]
        start += len(_PERSON)
        named = None if values[0] is None else User.from_db(using, _PERSON, values)
        field = model._meta.get_field(person)
        assert isinstance(field, ForeignKey)
        field.set_cached_value(made, named)
    return made


def width(model: type[Model], *people: str) -> int:
    """How many of a row's values `instance` reads."""
    return len(_own(model)) + len(people) * len(_PERSON)
