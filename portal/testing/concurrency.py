"""Real concurrent requests for tests: threads released together, each on its own
database connection (use with `django_db(transaction=True)` so they see committed rows)."""

import threading

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
