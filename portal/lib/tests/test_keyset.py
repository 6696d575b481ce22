"""Keyset cursors: the condition for "after this row" and its index-range bound."""

import datetime as dt

import pytest
from django.db.models import Q

from portal.lib import keyset

NEWEST = keyset.Sort("Newest", (("updated_at", True), ("id", True)))
OLDEST = keyset.Sort("Oldest", (("updated_at", False), ("id", False)))
AT = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("sort", "bound"), [(NEWEST, "updated_at__lte"), (OLDEST, "updated_at__gte")]
)
def test_the_first_key_is_bounded_so_the_scan_starts_at_the_cursor(sort, bound):
    condition = keyset.after_condition(sort, [AT, 7])
    # (first key bound) AND ((a after x) OR (a = x AND b after y)): the bound is implied by
    # the rest, so it changes no result, but PostgreSQL can use it as an index range.
    assert condition.connector == Q.AND
    assert (bound, AT) in condition.children


def test_cursors_round_trip_and_tampering_is_refused():
    cursor = keyset.encode([AT, 7])
    assert keyset.decode(cursor, NEWEST) == [AT, 7]
    for bad in (
        "!!",
        keyset.encode([AT]),
        keyset.encode(["yesterday", 7]),
        keyset.encode([AT, True]),
    ):
        with pytest.raises(keyset.BadCursor):
            keyset.decode(bad, NEWEST)
