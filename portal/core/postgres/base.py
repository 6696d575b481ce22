"""Django's PostgreSQL backend, with a health check that costs no round trip while the
connection is busy.

Persistent connections (DB_CONN_MAX_AGE) outlive a database restart, so the portal keeps
CONN_HEALTH_CHECKS on. Django's check sends `SELECT 1` before the first statement of every
request: a round trip on every page, create and comment (about 5 % of a served create,
docs/benchmarks.md, issue 26). Here:

- A connection the server ended (restart, shutdown, a killed backend, idle timeout) has
  something waiting on its socket: PostgreSQL sends its FATAL message and closes. So the
  check first looks at the socket without waiting; when something is there it asks the
  server (`SELECT 1`), which tells a dead connection from a harmless message (a parameter
  the server reports again after a configuration reload, a notice).
- A server that vanished without closing anything (its host gone, an address moved to
  another host by a failover, a firewall that forgot the connection) leaves nothing on
  the socket. A connection idle for more than `QUIET_TRUST_SECONDS` is therefore asked
  `SELECT 1` anyway, as Django would: under load connections are never idle that long, so
  the round trip is spent only where such a failure can hide. TCP keepalives (the
  settings turn them on) make the kernel notice a dead peer on a connection that stays
  idle, which the socket check then sees.
"""

import select
import time

import psycopg
from django.db.backends.postgresql import base

# A connection used within this many seconds is trusted on a quiet socket.
QUIET_TRUST_SECONDS = 10.0


class DatabaseWrapper(base.DatabaseWrapper):
    # When the connection was last handed back at the end of a request (monotonic).
    idle_since: float | None = None

    def close_if_health_check_failed(self) -> None:
        # Django's own attributes (base.BaseDatabaseWrapper), not in django-stubs.
        enabled, done = self.health_check_enabled, self.health_check_done  # type: ignore[attr-defined,has-type]
        # The pool only hands out healthy connections.
        if self.pool or self.connection is None or not enabled or done:
            return
        if not self.looks_alive() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def close_if_unusable_or_obsolete(self) -> None:
        super().close_if_unusable_or_obsolete()
        self.idle_since = time.monotonic() if self.connection is not None else None

    def looks_alive(self) -> bool:
        """True when the connection was used recently and nothing waits on its socket."""
        recently = self.idle_since is not None and (
            time.monotonic() - self.idle_since < QUIET_TRUST_SECONDS
        )
        return recently and self.socket_is_quiet()

    def socket_is_quiet(self) -> bool:
        """True when the idle connection is open and nothing waits on its socket."""
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            poller = select.poll()  # not select(): file descriptors above 1023 are fine
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError, psycopg.Error):
            return False
