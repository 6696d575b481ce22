"""Named versions in the shared cache: keys that embed a version go stale all at once.

What a page reads on every request but rarely changes (people's roles, the master data
behind the list's filter options) is cached under a key that includes the current version
of its source (`versioned_key("roles", user.pk)`); a write to that source calls
`bump("roles")`, and every reader's next key misses, so nothing has to know which keys
exist. Old entries expire with their timeout.

A bump happens at once *and* again when the writing transaction commits: a request that
read the old rows while the write was in flight may have cached them under the version of
the first bump, and the second one leaves that entry behind. (The first one is what a
test inside a transaction that never commits sees.)

A version is a nanosecond timestamp rather than a counter: if the cache evicts it, the
next one cannot collide with a version still inside some entry's key.

The entries are in Django's cache (`django.core.cache.cache`): shared Redis with
CACHE_URL (several hosts, docs/scaling.md), else each process's own memory. The versions
must be the same for every process, or a write in one app server worker would leave the
others serving what it changed: with CACHE_URL they are in Redis beside the entries,
without it in the "versions" cache, files every process of the host reads (settings).
Nothing that must be exact lives in either.
"""

import time

from django.conf import settings
from django.core.cache import BaseCache, cache, caches
from django.db import transaction

PREFIX = "version:"


def _versions() -> BaseCache:
    return caches["versions"] if "versions" in settings.CACHES else cache


def version(name: str) -> int:
    """The current version of `name`, created on first use."""
    store, key = _versions(), PREFIX + name
    current = store.get(key)
    if current is None:
        store.add(key, time.time_ns(), timeout=None)
        current = store.get(key) or 0
    return current


def versioned_key(name: str, *parts: object) -> str:
    return ":".join([name, str(version(name)), *(str(part) for part in parts)])


def bump(*names: str) -> None:
    """Every key of these names goes stale now and again when the transaction commits."""

    def new_versions() -> None:
        _versions().set_many({PREFIX + name: time.time_ns() for name in names}, timeout=None)

    new_versions()
    transaction.on_commit(new_versions)
