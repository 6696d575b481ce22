"""CACHE_URL's Redis cache, for which a Redis that is down or hung costs time, not pages.

Django's RedisCache raises when Redis does not answer, and every signed-in page reads the
cache (roles, the bell, master rows, the filter form, Markdown HTML): with Redis stopped,
every page was an error, and with Redis hung every read waited out its socket timeout.
Everything in the cache is a copy that can be recomputed
(tests/test_cache_holds_nothing_exact.py), so this backend answers a read it cannot make
as a miss, and drops a write it cannot make: the page computes what it needs from the
database.

After a failure the process leaves Redis alone for `PAUSE_SECONDS` (10), answering at
once, so a hung Redis costs one socket timeout per process and pause, not one per read;
the first call after the pause tries again, so the cache comes back by itself.

One kind of write must not be dropped: a version bump (portal/lib/cache_versions.py),
without which entries cached before a change would be served after it. The "versions"
alias is this backend with `STRICT_WRITES`: its reads degrade like the others', its
writes raise, so a change that cannot make its cached copies stale fails (and rolls back)
rather than leaving them current.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger("portal.cache")


class CacheDown(RedisConnectionError):
    """Redis failed a moment ago and is being left alone (a strict write was refused)."""


class DegradingRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        self.strict_writes = bool(options.pop("STRICT_WRITES", False))
        self.pause_seconds = float(options.pop("PAUSE_SECONDS", 10))
        super().__init__(server, {**params, "OPTIONS": options})
        self._paused_until = 0.0  # this process's own view of Redis; nothing exact

    def answering(self) -> bool:
        """False while this process leaves Redis alone after a failure: every read is a
        miss then, so a caller that would fill the cache with more than it needs (a whole
        table for one row) reads only what it needs."""
        return time.monotonic() >= self._paused_until

    def _call(self, write: bool, fallback: Callable[[], Any], call: Callable[[], Any]) -> Any:
        if time.monotonic() < self._paused_until:
            if write and self.strict_writes:
                raise CacheDown("the cache did not answer a moment ago")
            return fallback()
        try:
            return call()
        except RedisError:
            self._paused_until = time.monotonic() + self.pause_seconds
            log.warning(
                "cache did not answer; reads go to the database for %ss",
                self.pause_seconds,
                exc_info=True,
            )
            if write and self.strict_writes:
                raise
            return fallback()

    # Reads: a miss.
    def get(self, key, default=None, version=None):
        return self._call(
            False, lambda: default, lambda: RedisCache.get(self, key, default, version)
        )

    def get_many(self, keys, version=None):
        return self._call(False, dict, lambda: RedisCache.get_many(self, keys, version))

    def has_key(self, key, version=None):
        return self._call(False, lambda: False, lambda: RedisCache.has_key(self, key, version))

    # Writes: dropped (the next read computes again), unless strict.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            True, lambda: False, lambda: RedisCache.add(self, key, value, timeout, version)
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            True, lambda: None, lambda: RedisCache.set(self, key, value, timeout, version)
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            True, lambda: list(data), lambda: RedisCache.set_many(self, data, timeout, version)
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            True, lambda: False, lambda: RedisCache.touch(self, key, timeout, version)
        )

    def delete(self, key, version=None):
        return self._call(True, lambda: False, lambda: RedisCache.delete(self, key, version))

    def delete_many(self, keys, version=None):
        return self._call(True, lambda: None, lambda: RedisCache.delete_many(self, keys, version))

    def incr(self, key, delta=1, version=None):
        # As for a key that is not there: callers of incr already handle that.
        return self._call(
            True, _missing_key(key), lambda: RedisCache.incr(self, key, delta, version)
        )

    def clear(self):
        return self._call(True, lambda: False, lambda: RedisCache.clear(self))


def _missing_key(key: str) -> Callable[[], Any]:
    def fallback() -> Any:
        raise ValueError(f"Key '{key}' not found (the cache does not answer)")

    return fallback
