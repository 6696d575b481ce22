"""Values computed once per object and kept on it (a user's roles, their reach)."""

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

    The prefix holds the version the request read, which every process reads from the
    same store, so a change made anywhere is seen at the next request: the first one under
    a new prefix drops what the old prefix held (CONTRIBUTING.md, "State in process
    memory"). For values that are what the shared cache holds under that version, and
    only of keys bounded by master data; mutable values are copied out by the caller.
    """

    def __init__(self) -> None:
        self._prefix: str | None = None
        self._values: dict[K, V] = {}

    def under(self, prefix: str) -> dict[K, V]:
        """The values kept under `prefix`, to read and add to."""
        if prefix != self._prefix:
            # Another thread may still hold the old dict: it only adds to that one.
            self._prefix, self._values = prefix, {}
        return self._values
