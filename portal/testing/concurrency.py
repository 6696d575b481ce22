"""Real concurrent requests for tests: threads released together, each on its own
database connection (use with `django_db(transaction=True)` so they see committed rows)."""

import threading
from unittest import mock

from django.db import connections


def run_together(work, count: int) -> list:
    """Run `work(n)` for n in range(count) in threads started at the same moment.

    Returns their results in order; any exception in a thread fails the caller.
    """
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except Exception as exc:  # collected and raised below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def run_contested(job, *, module, reader: str, count: int = 2) -> list:
    """Run `job()` in `count` threads where each stops after `module.<reader>` (the
    function that reads the candidates) until all have read: every candidate is then
    contested, the race a periodic job's row lock or conditional UPDATE must settle.
    Returns the results; any exception in a thread fails the caller."""
    barrier = threading.Barrier(count)
    real = getattr(module, reader)

    def read_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        barrier.wait(timeout=10)
        return found

    with mock.patch.object(module, reader, read_then_wait):
        return run_together(lambda _n: job(), count)
