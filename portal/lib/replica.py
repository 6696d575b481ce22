"""Which reads may go to the read replica, and whether the replica is fit to serve them.

Only what tolerates a few seconds of staleness reads from the replica: analytics, exports
and searches (`REPLICA_ROUTES`, `SEARCH_ROUTES` in portal/core/replica_middleware.py turn it
on per request with `replica_reads()`). The ORM asks the router (portal/core/db_router.py);
raw SQL asks `read_alias()` through `read_connection` and `read_transaction()`. Both ask
`replica_usable()`, whose answer is kept for REPLICA_CHECK_SECONDS in this process: a
healthy replica costs one small query per process every few seconds, an unreachable one a
connection attempt (REPLICA_CONNECT_TIMEOUT) per process every REPLICA_RETRY_SECONDS, never
one per read.
Without DATABASE_REPLICA_URL every function here answers "default".
"""

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar, Token

from django.conf import settings
from django.db import connections, transaction

from portal.lib.db import DATABASE_ERRORS

log = logging.getLogger("portal.db")

REPLICA = "replica"
PRIMARY = "default"

_reads_to_replica: ContextVar[bool] = ContextVar("reads_to_replica", default=False)
# The alias a read transaction started on: every read inside it stays there.
_pinned: ContextVar[str | None] = ContextVar("pinned_read_alias", default=None)

# receive == replay: everything received is applied, the replica is as fresh as its stream
# (the replay timestamp alone grows while the primary is idle). A replica that is not
# streaming at all (primary unreachable, slot broken) is not trusted however fresh it looks.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
"""


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_reads_active() -> bool:
    return _reads_to_replica.get()


def set_replica_reads(enabled: bool) -> Token[bool]:
    """For middleware that turns replica reads on in one hook and resets them in another."""
    return _reads_to_replica.set(enabled)


def reset_replica_reads(token: Token[bool]) -> None:
    _reads_to_replica.reset(token)


@contextlib.contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Inside, reads of the router's models may go to the replica (when it is usable)."""
    token = _reads_to_replica.set(enabled)
    try:
        yield
    finally:
        _reads_to_replica.reset(token)


def read_alias() -> str:
    """Where a read that tolerates staleness goes now: "replica" or "default"."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    if not replica_reads_active() or not replica_configured():
        return "default"
    if connections["default"].in_atomic_block:
        return "default"  # it must see the writes of its own transaction
    return REPLICA if replica_usable() else "default"


@contextlib.contextmanager
def read_transaction() -> Iterator[None]:
    """A transaction for a report's statements on the alias `read_alias()` chooses, which
    every read inside it (ORM or raw) keeps using: one consistent snapshot."""
    alias = read_alias()
    token = _pinned.set(alias)
    try:
        # savepoint=False: inside an outer transaction (tests) this adds no statements.
        with transaction.atomic(using=alias, savepoint=False):
            yield
    finally:
        _pinned.reset(token)


class _ReadConnection:
    """Stands for `django.db.connection` in raw-SQL reports: the connection of `read_alias()`."""

    def __getattr__(self, name: str):
        return getattr(connections[read_alias()], name)


read_connection = _ReadConnection()


def pinned_alias() -> str | None:
    return _pinned.get()


class _Health:
    """This process's last look at the replica: (usable, when) under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.usable = False
        self.checked_at = float("-inf")
        self.reason = "not checked"

    def trust_for(self) -> float:
        """Seconds the last look holds: REPLICA_CHECK_SECONDS, or REPLICA_RETRY_SECONDS
        after the replica could not be reached (each attempt may wait for a timeout)."""
        if self.reason.startswith("unreachable"):
            return max(settings.REPLICA_RETRY_SECONDS, settings.REPLICA_CHECK_SECONDS)
        return settings.REPLICA_CHECK_SECONDS

    def forget(self) -> None:
        with self.lock:
            self.checked_at = float("-inf")


health = _Health()


def replica_lag() -> float | None:
    """Seconds the replica is behind, 0 when caught up; None when it is not streaming."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(LAG_SQL)
        in_recovery, lag, streaming = cursor.fetchone()
    if not in_recovery:
        return 0.0  # pointed at a primary (or a promoted replica): nothing to lag behind
    if not streaming or lag is None:
        return None
    return max(float(lag), 0.0)


def replica_usable() -> bool:
    """True when the replica answers and lags at most REPLICA_MAX_LAG_SECONDS."""
    now = time.monotonic()
    if now - health.checked_at < health.trust_for():
        return health.usable
    with health.lock:
        if now - health.checked_at < health.trust_for():
            return health.usable
        try:
            lag = replica_lag()
        except DATABASE_ERRORS as exc:
            usable, reason = False, f"unreachable ({exc.__class__.__name__})"
            _close_replica()
        else:
            if lag is None:
                usable, reason = False, "not streaming from the primary"
            elif lag > settings.REPLICA_MAX_LAG_SECONDS:
                usable, reason = False, f"{lag:.1f} s behind"
            else:
                usable, reason = True, f"{lag:.1f} s behind"
        if usable != health.usable or health.reason.startswith("not checked"):
            log.log(
                logging.INFO if usable else logging.WARNING,
                "read replica %s: %s",
                "in use" if usable else "not used, reads go to the primary",
                reason,
            )
        health.usable, health.reason, health.checked_at = usable, reason, time.monotonic()
        return usable


def mark_replica_down(reason: str) -> None:
    """A read on the replica failed: use the primary until the next check interval."""
    with health.lock:
        health.usable, health.checked_at = False, time.monotonic()
        health.reason = f"unreachable ({reason})"
    log.warning("read replica failed a read, reads go to the primary: %s", reason)
    _close_replica()


def _close_replica() -> None:
    with contextlib.suppress(*DATABASE_ERRORS):
        connections[REPLICA].close()
