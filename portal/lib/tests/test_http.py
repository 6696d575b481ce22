import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.lib.http import MAX_DATABASE_ID, parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5", 5), (7, 7), ("0", None), ("-1", None), ("+5", None), (" 5", None), ("٥", None),
     ("99999999999999999999", None), (str(MAX_DATABASE_ID), MAX_DATABASE_ID),
     (str(MAX_DATABASE_ID + 1), None), ("", None), (None, None), (True, None), ("1e3", None)],
)  # fmt: skip
def test_parse_id_accepts_only_plain_ids_in_database_range(raw, expected):
    assert parse_id(raw) == expected


@given(st.text())
def test_parse_id_never_raises_and_stays_in_range(raw):
    value = parse_id(raw)
    assert value is None or 0 < value <= MAX_DATABASE_ID
