"""The shared cache as tests see it: another process's catalogue change, and which keys a
module reads from the cache."""

import time

from portal.lib import cache_versions


def new_version_elsewhere(name: str) -> None:
    """A new version of `name` in the store every process reads, as another process's
    committed write leaves it (this process has not bumped it itself)."""
    cache_versions._versions().set(cache_versions.PREFIX + name, time.time_ns(), None)


def watch_cache_reads(monkeypatch, module) -> list:
    """The key lists `module`'s cache reads with `get_many` from now on."""
    reads: list = []
    real_get_many = module.cache.get_many
    monkeypatch.setattr(
        module.cache, "get_many", lambda keys: reads.append(keys) or real_get_many(keys)
    )
    return reads
