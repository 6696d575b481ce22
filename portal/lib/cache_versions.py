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

The writing transaction itself keeps reading after its bump, and what it reads then is
not committed: cached under the new version, a rollback (which runs no callback) would
leave it current for everyone. So until its commit, a transaction that bumped a name
reads and writes that name's entries under keys of its own (the version plus a token
only it knows): it sees its own writes, and a rollback leaves only entries nobody will
ask for again, which expire.

A version is a nanosecond timestamp rather than a counter: if the cache evicts it, the
next one cannot collide with a version still inside some entry's key.

The entries are in Django's cache (`django.core.cache.cache`): shared Redis with
CACHE_URL (several hosts, docs/scaling.md), else each process's own memory. The versions
must be the same for every process, or a write in one app server worker would leave the
others serving what it changed: with CACHE_URL they are in Redis beside the entries,
without it in the "versions" cache, files every process of the host reads (settings).
Nothing that must be exact lives in either.

`cached` is the read-through every such read goes through (`cached_together` for a family
of values one query computes at once): it keeps the rules above, tells a cached None or []
from a miss, and a cache that does not answer costs the read its shortcut, never the page.

Within one request each version is read from its store once (a ticket page asks for
"masters" three times; without CACHE_URL each read opened and unpickled a file): the
request keeps what it read, and its own bumps, until it ends (`request_started` and
`request_finished`). Nothing outlives the request, so the next request reads a bump made by
another process meanwhile; the one in flight keeps each version as it first read it (one
it first asks for late sees a bump made after it began). Outside a request (tasks,
commands, shells) every read goes to the store.
"""

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import BaseCache, cache, caches
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from redis.exceptions import RedisError

PREFIX = "version:"
log = logging.getLogger("portal.cache")

# A cache that does not answer: Redis down or timing out (CACHE_URL), or the versions'
# files unreadable. Anything else (a value that cannot be pickled) is a bug and raises.
CACHE_ERRORS = (OSError, RedisError)

_MISSING = object()

# The versions this request has read or written, by name; None outside a request. A
# context variable: one per thread (and per asyncio task), so two requests served at once
# never share it.
_request_versions: ContextVar[dict[str, int] | None] = ContextVar(
    "portal_request_versions", default=None
)


def _request_began(**_kwargs: object) -> None:
    _request_versions.set({})


def _request_ended(**_kwargs: object) -> None:
    seen = _request_versions.get()
    if seen is not None:
        seen.clear()  # a task the request started holds the same dict: it reads the store
    _request_versions.set(None)


request_started.connect(_request_began, dispatch_uid="portal.lib.cache_versions.began")
request_finished.connect(_request_ended, dispatch_uid="portal.lib.cache_versions.ended")


def cached[T](
    name: str,
    key_parts: Sequence[object],
    compute: Callable[[], T],
    *,
    timeout: int,
    keep_none: bool = True,
) -> T:
    """`compute()`, kept in the shared cache under `versioned_key(name, *key_parts)` for
    `timeout` seconds or until `bump(name)`.

    Whatever `compute` returns is kept, None and empty values too (a classification
    without an SLA policy, a category without form fields): only a missing key computes.
    When the cache does not answer, the value is computed and not kept: the read is
    slower but still right. `keep_none=False` keeps no None: for reads by an id someone
    typed, where keeping "no such row" would let anyone fill the cache with made-up ids.
    """
    try:
        key = versioned_key(name, *key_parts)
        found = cache.get(key, _MISSING)
    except CACHE_ERRORS:
        return compute()
    if found is not _MISSING:
        return found
    value = compute()
    if value is None and not keep_none:
        return value
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS:
        pass  # the next read computes again
    return value


def cache_answering() -> bool:
    """False while the shared cache is known not to answer (Redis left alone for a few
    seconds after a failure, portal/lib/redis_cache.py); a process's own memory always
    answers."""
    answering = getattr(cache, "answering", None)
    return answering() if answering is not None else True


def cached_together[K, T](
    name: str,
    kind: str,
    key: K,
    compute_all: Callable[[], dict[K, T]],
    compute_one: Callable[[], T],
    *,
    timeout: int,
    default: T,
) -> T:
    """`cached` for one of a family of values that one query computes as cheaply as a
    single one (each team's members): a miss runs `compute_all()` and keeps every value it
    returns under its own key (`versioned_key(name, kind, k)`), so the family's next
    members are hits too; `key`'s value is answered, `default` when `compute_all` has none
    for it (which is kept as well). Same rules as `cached` for versions; while the cache
    does not answer, only `compute_one()` runs (what would be kept could not be)."""
    try:
        # The version is read before the data, as `cached` does: a bump committed while
        # the family is computed leaves what it computed under the old version.
        prefix = versioned_key(name, kind)
        found = cache.get(f"{prefix}:{key}", _MISSING)
    except CACHE_ERRORS:
        return compute_one()
    if found is not _MISSING:
        return found
    if not cache_answering():
        return compute_one()
    values = compute_all()
    kept = {f"{prefix}:{k}": v for k, v in values.items()}
    value = kept.setdefault(f"{prefix}:{key}", default)
    try:
        cache.set_many(kept, timeout)
    except CACHE_ERRORS:
        pass  # the next read computes again
    return value


def _versions() -> BaseCache:
    return caches["versions"] if "versions" in settings.CACHES else cache


def version(name: str) -> int:
    """The current version of `name`, created on first use.

    When the store does not answer (CACHE_URL's Redis down: its reads come back as
    misses, its writes raise), a version of this moment alone: nothing cached under it is
    asked for again, so no copy from before a change can come back once Redis does.
    """
    seen = _request_versions.get()
    if seen is not None and name in seen:
        return seen[name]
    store, key = _versions(), PREFIX + name
    try:
        current = store.get(key)
        if current is None:
            store.add(key, time.time_ns(), timeout=None)
            current = store.get(key)
    except CACHE_ERRORS:
        return time.time_ns()
    if current is None:
        return time.time_ns()
    if seen is not None:
        seen[name] = current
    return current


def versioned_key(name: str, *parts: object) -> str:
    return ":".join([name, f"{version(name)}{_own_token(name)}", *(str(p) for p in parts)])


# On the connection: name -> the open transaction's bumps of it, oldest first, each
# [token, the commit callback that stands for it].
_BUMPED = "portal_bumped_versions"


def _registered(callback) -> tuple | None:
    """The run_on_commit entry of `callback`, or None: a rollback (of the transaction or
    of a savepoint it was registered in) drops it."""
    for entry in connection.run_on_commit:
        if entry[1] is callback:
            return entry
    return None


def _live_bumps(name: str) -> list[list]:
    """This transaction's bumps of `name` that no rollback undid, oldest first."""
    bumped = getattr(connection, _BUMPED, None)
    if not bumped or name not in bumped:
        return []
    stack = bumped[name]
    if not connection.in_atomic_block:
        stack.clear()
    # Savepoints nest, so a rollback drops the newest callbacks first.
    while stack and _registered(stack[-1][1]) is None:
        stack.pop()
    if not stack:
        del bumped[name]
    return stack


def _own_token(name: str) -> str:
    """The token of the open transaction's last bump of `name`, else ""."""
    stack = _live_bumps(name)
    return stack[-1][0] if stack else ""


def bump(*names: str) -> None:
    """Every key of these names goes stale now and again when the transaction commits;
    until then this transaction has keys of its own for them (module docstring).

    A transaction that bumps a name many times (an import, one signal per row) writes its
    version twice all the same: at its first bump and at its commit. The later bumps only
    give the transaction new keys of its own, so it still reads what it wrote since.
    """
    if not connection.in_atomic_block:
        _new_versions(names)  # nothing uncommitted to keep apart
        return
    first = [name for name in names if not _live_bumps(name)]
    if first:
        _new_versions(first)

    token = f"~{uuid.uuid4().hex}"
    bumped = getattr(connection, _BUMPED, None)
    if bumped is None:
        bumped = {}
        setattr(connection, _BUMPED, bumped)
    open_savepoints = set(connection.savepoint_ids)
    callback = None
    for name in names:
        stack = bumped.setdefault(name, [])
        entry = _registered(stack[-1][1]) if stack else None
        # The last bump's callback, when the same rollbacks would drop it as one made now
        # (savepoints it was made in and that are released since can no longer roll back).
        if entry is not None and entry[0] & open_savepoints == open_savepoints:
            stack[-1][0] = token
            continue
        if callback is None:
            callback = _commit_callback(names)
            transaction.on_commit(callback)
        stack.append([token, callback])


def _commit_callback(names: tuple[str, ...]):
    def committed() -> None:
        # The first callback of the transaction to run for a name bumps it; the others
        # (more bumps of it in the same transaction) find it done.
        bumped = getattr(connection, _BUMPED, {})
        due = [name for name in names if bumped.pop(name, None)]
        if not due:
            return
        try:
            _new_versions(due)
        except CACHE_ERRORS:
            # The write is committed: raising now would answer it with an error and make
            # Django skip the transaction's later commit callbacks (its tasks and mail).
            # The bump made before the commit stands; what was cached since expires.
            log.warning("cache versions not bumped at commit: %s", ", ".join(due), exc_info=True)

    return committed


def _new_versions(names) -> None:
    new = {name: time.time_ns() for name in names}
    seen = _request_versions.get()
    if seen is not None:
        # Forgotten first: if the store refuses the write, the next read asks it again.
        for name in new:
            seen.pop(name, None)
    _versions().set_many({PREFIX + name: value for name, value in new.items()}, timeout=None)
    if seen is not None:
        seen.update(new)
