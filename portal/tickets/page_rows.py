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

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, ForeignKey, Model, OuterRef, Subquery
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from portal.accounts.models import User
from portal.accounts.selectors import NAME_FIELDS

# In the model's field order: `Model.from_db` takes a subset of the fields in that order.
_PERSON = tuple(f.attname for f in User._meta.concrete_fields if f.attname in NAME_FIELDS)


@functools.cache
def _own(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


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
    return instances(model, [row], *people, using=using)[0]


def instances[M: Model](
    model: type[M], rows: Iterable[Sequence[Any]], *people: str, using: str = DEFAULT_DB_ALIAS
) -> list[M]:
    """`instance` of each row, the checks done once for them all (a list's 25 tickets and
    their 50 people)."""
    own = _own(model)
    make, person = _maker(model, own, using), _maker(User, _PERSON, using)
    fields = []
    for name in people:
        field = model._meta.get_field(name)
        assert isinstance(field, ForeignKey)
        fields.append(field)
    made = []
    for row in rows:
        one = make(row[: len(own)])
        start = len(own)
        for field in fields:
            values = row[start : start + len(_PERSON)]
            start += len(_PERSON)
            field.set_cached_value(one, None if values[0] is None else person(values))
        made.append(one)
    return made


def _maker[M: Model](
    model: type[M], names: tuple[str, ...], using: str
) -> Callable[[Sequence[Any]], M]:
    """`model.from_db(using, names, values)` as a function of the values.

    from_db calls `Model.__init__`, which sets each field through its descriptor and sends
    pre_init and post_init: the list's largest Python cost after its template, 5 % of the
    1,000,000-ticket mixed load's CPU (docs/benchmarks.md, issue 26, 2026-12-06). Where
    that is all they would do, the instance is made as `__init__` would leave it (the
    fields named in `__dict__`, the others deferred, a new state of a row from `using`);
    otherwise by `from_db` itself, so a receiver of either signal, an override of either
    method or a field's own setter sees what it always did.
    """
    if (
        pre_init.has_listeners(model)
        or post_init.has_listeners(model)
        or not _plain_fields(model, names)
    ):
        return lambda values: model.from_db(using, names, values)
    new = Model.__new__

    def make(values: Sequence[Any]) -> M:
        made = new(model)
        made.__dict__.update(zip(names, values, strict=True))
        state = made._state = ModelState()
        state.adding = False
        state.db = using
        return made

    return make


@functools.cache
def _plain_fields(model: type[Model], names: tuple[str, ...]) -> bool:
    """Whether `Model.__init__` would only put `names` into `__dict__`: neither `__init__`
    nor `from_db` is the model's own, and each name's attribute is Django's plain field
    descriptor (a foreign key's only clears a cached row, which a new instance has not)."""
    plain = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return (
        model.__init__ is Model.__init__
        and model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
        and all(type(model.__dict__.get(name) or getattr(model, name, None)) in plain
                for name in names)
    )  # fmt: skip


def width(model: type[Model], *people: str) -> int:
    """How many of a row's values `instance` reads."""
    return len(_own(model)) + len(people) * len(_PERSON)
