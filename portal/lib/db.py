"""Riding out a database that goes away (a restart, a fail-over, a network blip)."""

import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connection

# Anything the driver raises when the server is gone, restarting or refusing connections.
DATABASE_ERRORS = (DatabaseError, InterfaceError)
# The narrower set that means "the database cannot be reached" (an outage, answered 503),
# as opposed to a query the database refused (IntegrityError, DataError …: a bug or bad input).
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def transaction_open() -> bool:
    """Whether a database transaction is open on any connection of this thread: no
    network call (storage, an identity provider) may happen while one is.

    The atomic blocks a test case wraps around each test do not count (as for Django's
    own `durable` check): they stand in for autocommit.
    """
    from django.db import connections

    return any(
        not getattr(block, "_from_testcase", False)
        for conn in connections.all(initialized_only=True)
        for block in conn.atomic_blocks
    )


def refuse_inside_transaction(action: str, instead: str) -> None:
    """No network call (storage, a webhook, an identity platform) while a transaction is
    open: a peer that hangs would hold the transaction's locks for its whole timeout.
    `instead` tells the caller what to do."""
    if transaction_open():
        raise RuntimeError(f"Refusing to {action} inside a database transaction: {instead}")


def close_connection() -> None:
    """Drop this thread's connection; the next query opens a fresh one."""
    try:
        connection.close()
    except DATABASE_ERRORS:  # closing a connection the server already dropped
        pass


def retry_through_outage[T](write: Callable[[], T], *, within: float) -> T:
    """Run `write`, retrying on database errors (0.5 s, 1 s, 2 s … 5 s apart) for up to
    `within` seconds; then the last error is raised.

    For the few writes that record what happened outside the database and cannot be
    redone safely, such as "the mail server accepted this message": losing one means
    doing the outside action twice.
    """
    deadline = time.monotonic() + within
    delay = 0.5
    while True:
        try:
            return write()
        except DATABASE_ERRORS:
            if time.monotonic() + delay > deadline:
                raise
            close_connection()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
