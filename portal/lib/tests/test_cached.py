"""`cached`: the read-through over versioned keys every cached read of master data, SLA
policies and webhooks goes through."""

import pytest
import redis
from django.core.cache import cache
from django.db import transaction

from portal.lib.cache_versions import bump, cached

NAME = "test-read-through"


class Source:
    """What a cached read computes from, counting how often it is asked."""

    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def read(source: Source, *parts: object) -> object:
    return cached(NAME, ["thing", *parts], source, timeout=60)


def test_a_miss_computes_and_the_next_read_is_served_from_the_cache():
    source = Source(["Printers"])
    assert read(source) == ["Printers"]
    source.value = ["Changed without a bump"]
    assert read(source) == ["Printers"]
    assert source.calls == 1


def test_each_key_part_is_a_key_of_its_own():
    first, second = Source("first"), Source("second")
    assert (read(first, 1), read(second, 2)) == ("first", "second")
    assert read(second, 1) == "first"


@pytest.mark.parametrize("empty", [None, [], {}, (), 0, ""])
def test_a_cached_empty_value_is_a_hit(empty):
    source = Source(empty)
    assert read(source) == empty
    assert read(source) == empty
    assert source.calls == 1


def test_a_bump_makes_the_next_read_compute_again():
    source = Source("before")
    read(source)
    source.value = "after"
    bump(NAME)
    assert read(source) == "after"
    assert source.calls == 2


def test_a_bump_of_another_name_leaves_the_entries_current():
    source = Source("kept")
    read(source)
    bump(f"{NAME}-other")
    read(source)
    assert source.calls == 1


@pytest.mark.django_db(transaction=True)
def test_what_a_transaction_read_after_its_bump_is_not_served_after_a_rollback():
    source = Source("committed")
    assert read(source) == "committed"
    with pytest.raises(RuntimeError), transaction.atomic():
        source.value = "never committed"
        bump(NAME)
        assert read(source) == "never committed"  # the writer sees its own write
        assert read(source) == "never committed"
        assert source.calls == 2  # ... and caches it, under a key of its own
        raise RuntimeError
    source.value = "committed"
    assert read(source) == "committed"


@pytest.mark.django_db(transaction=True)
def test_what_a_transaction_read_after_its_bump_is_stale_for_everyone_after_its_commit():
    source = Source("before")
    read(source)
    with transaction.atomic():
        source.value = "read inside"
        bump(NAME)
        read(source)
        source.value = "after the commit"  # another writer, say
    assert read(source) == "after the commit"


def down(*args, **kwargs):
    raise redis.ConnectionError("Error 111 connecting to cache:6379. Connection refused.")


@pytest.mark.parametrize("method", ["get", "set"])
def test_a_cache_that_does_not_answer_costs_the_shortcut_not_the_read(monkeypatch, method):
    monkeypatch.setattr(cache, method, down)
    source = Source("from the database")
    assert read(source) == "from the database"
    assert read(source) == "from the database"
    assert source.calls == 2


def test_a_versions_store_that_does_not_answer_costs_the_shortcut_not_the_read(monkeypatch):
    from portal.lib import cache_versions

    monkeypatch.setattr(cache_versions, "version", down)
    assert read(Source("from the database")) == "from the database"


def test_a_bug_is_not_taken_for_a_cache_that_does_not_answer(monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("cannot pickle")

    monkeypatch.setattr(cache, "set", broken)
    with pytest.raises(TypeError):
        read(Source("value"))
