"""Django's PostgreSQL backend, with a health check that costs no round trip.

Persistent connections (DB_CONN_MAX_AGE) outlive a database restart, so the portal keeps
CONN_HEALTH_CHECKS on. Django's check sends `SELECT 1` before the first statement of every
request: a round trip on every page, create and comment (about 5 % of a served create,
docs/benchmarks.md, issue 26). A connection the server ended (restart, shutdown, a killed
backend, idle timeout) has something waiting on its socket: PostgreSQL sends its FATAL
message and closes. An idle connection in good health has nothing to read. So the check
looks at the socket without waiting; only when something is there does it ask the server
(`SELECT 1`), which tells a dead connection from a harmless message (a parameter the
server reports again after a configuration reload, a notice).

What neither check can see is a server that vanished without closing anything (its host
gone): `SELECT 1` would then hang until TCP gives up, as the request's own first
statement does now; `connect_timeout` and the load balancer's health check cover that.
"""

import select

import psycopg
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Django's own attributes (base.BaseDatabaseWrapper), not in django-stubs.
        enabled, done = self.health_check_enabled, self.health_check_done  # type: ignore[attr-defined,has-type]
        # The pool only hands out healthy connections.
        if self.pool or self.connection is None or not enabled or done:
            return
        if not self.socket_is_quiet() and not self.is_usable():
            self.close()
        self.health_check_done = True

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
