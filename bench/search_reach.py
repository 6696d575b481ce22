"""A search's page for people who reach different tickets: the words everyone searches,
and words common in other teams' tickets but rare in one's own (issue 26).

    BENCH_TICKETS=1000000 .venv/bin/python bench/search_reach.py [--runs 15] [--sweep]
    BENCH_TICKETS=1000000 bench/at-commit.sh <commit> search_reach.py   # another commit

On the database of `bench/generate.py` (production settings, Django's test Client in
process, signed in as each persona; the admin also with the list narrowed to HR's group,
where IT's words are rare). Per search: how many of the tickets the persona may
see match it against how many match in all (so a word "of other teams" is one), the
median wall time of the page over --runs warm requests, the page's statements, and the
search statements' own time (the statements with `@@`, as Django timed them). Wall times
depend on the machine and what else runs on it: compare commits on one machine, in turn.

--sweep: instead, the words of the vocabulary an agent and a SPOC might search (the first
and last thing named in six categories of each group, 48 words), each page's fastest of
--runs warm requests, and how many took over 100 ms and over 1 s.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import vocabulary  # noqa: E402
from bench.run import django_on_bench_database  # noqa: E402

# Common, two words, a word of another team's category, a less common one of it, rare,
# absent, and a ticket number (filled in from the data).
WORDS = ["laptop", "docking station", "printer", "toner", "payslip"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    info = django_on_bench_database()
    if args.sweep:
        sweep(info, args.runs)
        return

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.catalog.models import BusinessUnitGroup
    from portal.tickets.access import visible_tickets
    from portal.tickets.models import Ticket, format_number
    from portal.tickets.search import matching_ids

    words = [*WORDS, info["search"]["rare"], info["search"]["none"]]
    number = format_number(info["showcase"][0])
    # An admin narrowing the list to HR's group, where IT's words are rare.
    hr = BusinessUnitGroup.objects.get(name=vocabulary.GROUPS["HR"]["name"])
    print(f"{Ticket.objects.count():,} tickets; {args.runs} warm requests per row")
    print("| persona | search | theirs / all matching | p50 ms | statements | search SQL ms |")
    print("|---|---|--:|--:|--:|--:|")
    everyone = people(info)
    median = next(label for label in everyone if label.startswith("agent of"))
    for role, narrowing in [("admin", {}), ("admin", {"group": hr.pk}), ("agent", {}),
                            ("agent", {"sort": "-priority"}), (median, {}),
                            ("requester", {})]:  # fmt: skip
        user = everyone[role]
        client = Client()
        client.force_login(user)
        label = role
        if "group" in narrowing:
            label = f"{role}, {hr.name} only"
        elif narrowing:
            label = f"{role}, highest priority first"
        for word in [*words, number]:
            ids = matching_ids(user, word)
            everywhere = Ticket.objects.filter(pk__in=ids).count()
            only = {k: v for k, v in narrowing.items() if k != "sort"}
            theirs = visible_tickets(user).filter(pk__in=ids, **only).count()
            client.get("/tickets", {"q": word, **narrowing})  # warm: statements, caches
            walls, sql = [], []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get("/tickets", {"q": word, **narrowing})
                    walls.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (role, word, response.status_code)
                found = [q for q in queries.captured_queries if "@@" in q["sql"]]
                sql.append(sum(float(q["time"]) for q in found) * 1000)
            print(
                f"| {label} | {word} | {theirs:,} / {everywhere:,} | "
                f"{statistics.median(walls):.1f} | {len(queries.captured_queries)} | "
                f"{statistics.median(sql):.0f} |"
            )


def people(info: dict) -> dict:
    """The personas searched, by label: the bench's agent (of the busiest team), its SPOC
    and requester, and an agent of a median team (a smaller share of all tickets)."""
    from django.db.models import Count

    from portal.accounts.models import User
    from portal.catalog.models import Team, TeamMember

    found = {role: User.objects.get(pk=info["personas"][role]["id"]) for role in info["personas"]}
    teams = list(Team.objects.annotate(n=Count("tickets")).order_by("n"))
    median = teams[len(teams) // 2]
    only_there = (
        TeamMember.objects.filter(team=median)
        .exclude(user__in=TeamMember.objects.exclude(team=median).values("user"))
        .values_list("user", flat=True)
    )
    found[f"agent of {median.name} ({median.n:,} tickets)"] = User.objects.get(pk=only_there[0])
    return found


def sweep(info: dict, runs: int) -> None:
    from django.test import Client

    words = [
        word
        for group in vocabulary.GROUPS.values()
        for _name, things in group["categories"][:6]
        for word in (things[0], things[-1])
    ]
    everyone = people(info)
    roles = ["agent", "spoc", *(label for label in everyone if label.startswith("agent of"))]
    fastest: dict[str, list[float]] = {role: [] for role in roles}
    print(f"{len(words)} words, fastest of {runs} warm requests, ms")
    print("| search | " + " | ".join(roles) + " |")
    print("|---|" + "--:|" * len(roles))
    clients = {}
    for role in roles:
        clients[role] = Client()
        clients[role].force_login(everyone[role])
    for word in words:
        cells = []
        for role in roles:
            clients[role].get("/tickets", {"q": word})  # warm
            walls = []
            for _ in range(runs):
                start = time.perf_counter()
                response = clients[role].get("/tickets", {"q": word})
                walls.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (role, word)
            fastest[role].append(min(walls))
            cells.append(f"{min(walls):.0f}")
        print(f"| {word} | " + " | ".join(cells) + " |")
    for role in roles:
        times = fastest[role]
        print(
            f"{role}: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms, "
            f"{sum(t > 100 for t in times)} over 100 ms, {sum(t > 1000 for t in times)} over 1 s"
        )


if __name__ == "__main__":
    main()
