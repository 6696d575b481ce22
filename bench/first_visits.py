"""The ticket page seen for the first time in a process, and again: what the side-by-side
comparison times (../shared/peer: its 155 sample tickets spread over two fresh workers, so
nearly every timed request is a ticket its worker has not rendered yet).

    BENCH_TICKETS=100000 .venv/bin/python bench/first_visits.py [--tickets 150] [--rounds 1]

On the database of `bench/generate.py` (production settings, Django's test Client signed in
as the admin persona): the first `--tickets` open tickets, each requested once (first
visit: its Markdown rendered, nothing of it cached in this process), then each again.
Medians of wall and CPU time per request (the Python side; the database's own time is in
the wall time only).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import django_on_bench_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes are better")
    args = parser.parse_args()
    info = django_on_bench_database()

    from django.test import Client

    from portal.accounts.models import User
    from portal.tickets import access
    from portal.tickets.models import OPEN_STATUSES, Ticket, format_number

    client = Client()
    client.force_login(User.objects.get(pk=info["personas"]["admin"]["id"]))
    client.get("/dashboard")  # roles, master data and the like cached, as a warm worker has
    numbers = [
        format_number(pk)
        for pk in access.system_read(Ticket)  # the admin sees them all; this picks which
        .filter(status__in=OPEN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[: args.tickets * args.rounds]
    ]
    for n in range(args.rounds):
        mine = numbers[n * args.tickets : (n + 1) * args.tickets]
        for label in ("first visit", "second visit"):
            walls, cpus = [], []
            for number in mine:
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(f"/tickets/{number}")
                walls.append(1000 * (time.perf_counter() - wall))
                cpus.append(1000 * (time.process_time() - cpu))
                assert response.status_code == 200, (number, response.status_code)
            print(
                f"{label}: {len(mine)} tickets, wall ms median {statistics.median(walls):.2f},"
                f" CPU ms median {statistics.median(cpus):.2f}"
            )


if __name__ == "__main__":
    main()
