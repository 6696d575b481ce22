"""Values kept for later: on one object (a user's roles, their reach), per process for what
code and a key alone decide (`kept`), or per process under a cache version (`VersionMemo`).
"""

import time
from collections.abc import Callable


def memoised_on[T](obj: object, name: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time, kept on `obj` as the attribute `name` afterwards.

    For what one request asks many times about its user: the cache lives exactly as long
    as the object (the request's user), so nothing outlives a request in process memory.
    """
    cached: T | None = getattr(obj, name, None)
    if cached is None:
        cached = compute()
        setattr(obj, name, cached)
    return cached


# Keys of a code-derived memo are few (links a template names × URL confs, prefixes,
# languages); the bound only guards memory.
MAX_KEYS = 4096


def kept[K, V](memo: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """`make()` for `key`, kept in the process-wide `memo` (at most MAX_KEYS, then it
    starts over). Only for values derived from code and a key that holds everything
    they read (CONTRIBUTING.md, "State in process memory")."""
    found = memo.get(key)
    if found is None:
        found = make()
        if len(memo) >= MAX_KEYS:
            memo.clear()
        memo[key] = found
    return found


class VersionMemo[K, V]:
    """What this process read of the shared cache under one versioned prefix
    (`cache_versions.versioned_key`), kept for the requests after it.

    The prefix holds the version a request read from the store every process reads, so a
    change made anywhere is seen at the next request's first read of that version: the
    first `under` a new prefix starts over. Kept values are as old as `max_age` seconds at
    most, so an entry the shared cache would have let expire (a bump that failed at its
    commit leaves such entries behind; cache_versions) does not live on here. For values
    that are what the shared cache holds under the version, of keys bounded by master
    data; mutable values are copied out by the caller. While the store does not answer,
    every read is a new version: each `under` starts over and nothing is kept.
    """

    def __init__(self, max_age: float = 300.0) -> None:
        self.max_age = max_age
        # (prefix, since, values) replaced as one object: a thread never pairs one prefix
        # with another's values.
        self._kept: tuple[str | None, float, dict[K, V]] = (None, 0.0, {})

    def under(self, prefix: str) -> dict[K, V]:
        """The values kept under `prefix`, to read and add to."""
        kept = self._kept
        now = time.monotonic()
        if kept[0] != prefix or now - kept[1] > self.max_age:
            kept = (prefix, now, {})
            self._kept = kept
        return kept[2]
