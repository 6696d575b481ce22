"""The `portal.security` logger's database handler: every security event is also a row.

Attached to the logger in settings.LOGGING, so each `security_log.info/warning(...)`
anywhere in the portal writes a `SecurityEvent` as well as its log line: the one code path
of the security log. The logger's level is INFO whatever LOG_LEVEL says (the console
handler filters by LOG_LEVEL), so no event is kept out of the audit trail by a quiet
console.

The row is written on the caller's database connection: in the caller's transaction when
there is one (an event about a change rolled back is rolled back with it; it did not
happen), in autocommit otherwise. When the database cannot take it (down, or the
transaction already broken), the log line still goes out and the failure is reported on
stderr by logging's own `handleError`; the request is never failed by its audit.
"""

import datetime as dt
import ipaddress
import json
import logging

from portal.lib.logging import record_extras

# Extras that have columns of their own; everything else goes to `details`.
_COLUMNS = {"user_id", "actor_id", "email", "ip"}


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ip_or_none(value) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _plain(details: dict) -> dict:
    """JSON-safe: anything else (an exception, a date) as its text."""
    return json.loads(json.dumps(details, default=str))


class DatabaseHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            from django.db import connection

            if connection.in_atomic_block and connection.needs_rollback:
                raise RuntimeError("the current transaction is broken; event not stored")
            from portal.accounts.models import SecurityEvent

            extras = record_extras(record)
            SecurityEvent.objects.create(
                created_at=dt.datetime.fromtimestamp(record.created, tz=dt.UTC),
                level=record.levelname.lower(),
                event=record.getMessage()[:200],
                user_id=_int_or_none(extras.get("user_id")),
                actor_id=_int_or_none(extras.get("actor_id")),
                email=str(extras.get("email") or "")[:254],
                ip_address=_ip_or_none(extras.get("ip")),
                details=_plain({k: v for k, v in extras.items() if k not in _COLUMNS}),
            )
        except Exception:  # noqa: BLE001 (the audit must never fail the request it records)
            self.handleError(record)
