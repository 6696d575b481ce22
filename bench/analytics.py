"""Benchmark: /analytics and /dashboard at a million tickets (issue 7's targets).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        .venv/bin/python bench/analytics.py [--tickets 1000000] [--runs 30] [--reuse]

The database named in DATABASE_URL is migrated and filled here (it must be a throwaway
one: every ticket in it is deleted first, unless --reuse keeps the last run's data).
Data, generated in SQL (`generate_series`, seconds rather than hours through services):
20 groups × 10 categories × 5 subcategories, 50 teams of 10 agents, 5,000 requesters;
tickets created uniformly over two years; those older than 30 days are 97 % resolved or
closed, newer ones mostly open; one "Resolved" history event per resolution and a reopen
on 5 % of them. Then each page is requested `--runs` times per persona through Django's
test client (the whole stack but the network) and the median and p95 are printed.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from bench import common  # noqa: E402

FILL_SQL = """
INSERT INTO tickets_ticket (title, description, requester_id, group_id, category_id,
    subcategory_id, priority, status, team_id, assignee_id, created_at, updated_at,
    first_response_at, resolved_at, closed_at, version)
SELECT 'Bench ticket ' || g, 'Generated.', r.id, c.group_id, c.id, s.id,
    (ARRAY['low','medium','high','urgent'])[1 + (g %% 4)],
    st.status, tm.id,
    CASE WHEN st.status = 'new' AND g %% 3 = 0 THEN NULL ELSE a.id END,
    -- updated_at is the latest change: never before the response or the resolution.
    x.created, LEAST(now(), x.created + interval '51 hours'),
    CASE WHEN st.status = 'new' THEN NULL
        ELSE LEAST(now(), x.created + (g %% 17 + 1) * interval '17 minutes') END,
    CASE WHEN st.status IN ('resolved','closed')
        THEN LEAST(now(), x.created + (g %% 49 + 1) * interval '1 hour') END,
    CASE WHEN st.status = 'closed'
        THEN LEAST(now(), x.created + (g %% 49 + 2) * interval '1 hour') END,
    1
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT now() - (g::float / %(n)s) * interval '730 days' AS created) x
CROSS JOIN LATERAL (SELECT CASE
    WHEN x.created < now() - interval '30 days' THEN
        CASE WHEN g %% 34 = 33 THEN 'in_progress' WHEN g %% 34 IN (0, 32) THEN 'resolved'
            ELSE 'closed' END
    ELSE (ARRAY['new','in_progress','on_hold','resolved','in_progress','closed'])[1 + (g %% 6)]
    END AS status) st
JOIN bench_category c ON c.n = g %% 200
JOIN bench_subcategory s ON s.category_id = c.id AND s.n = g %% 5
JOIN bench_team tm ON tm.n = g %% 50
JOIN bench_agent a ON a.team_n = g %% 50 AND a.n = (g / 50) %% 10
JOIN bench_requester r ON r.n = g %% 5000
"""


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(tickets: int) -> None:
    from django.db import connection, transaction

    from portal.accounts.models import User
    from portal.catalog.models import (
        BusinessUnitGroup,
        Category,
        ClassificationMapping,
        Subcategory,
        Team,
        TeamMember,
    )  # fmt: skip
    from portal.tickets.models import Ticket, TicketEvent

    with transaction.atomic():
        TicketEvent.objects.all().delete()
        Ticket.objects.all().delete()
        ClassificationMapping.objects.all().delete()
        Subcategory.objects.all().delete()
        Category.objects.all().delete()
        BusinessUnitGroup.objects.all().delete()
        TeamMember.objects.all().delete()
        Team.objects.all().delete()
        User.objects.filter(email__endswith="@bench.example").delete()
        admin = User.objects.create_user("admin@bench.example", "x", is_staff=True)
        spoc = User.objects.create_user("spoc@bench.example", "x")
        users = User.objects.bulk_create(
            [User(email=f"agent{i}@bench.example", full_name=f"Agent {i}") for i in range(500)]
            + [User(email=f"req{i}@bench.example") for i in range(5000)]
        )
        teams = Team.objects.bulk_create(
            [Team(name=f"Team {i:02}", name_key=f"team {i:02}") for i in range(50)]
        )
        TeamMember.objects.bulk_create(
            [TeamMember(team=teams[i // 10], user=users[i]) for i in range(500)]
        )
        groups = BusinessUnitGroup.objects.bulk_create(
            [BusinessUnitGroup(name=f"Group {i:02}", name_key=f"group {i:02}", code=f"G{i}")
             for i in range(20)]
        )  # fmt: skip
        groups[0].spocs.add(spoc)
        categories = Category.objects.bulk_create(
            [Category(group=groups[i // 10], name=f"Cat {i:03}", name_key=f"cat {i:03}")
             for i in range(200)]
        )  # fmt: skip
        Subcategory.objects.bulk_create(
            [Subcategory(category=categories[i // 5], name=f"Sub {i % 5}", name_key=f"sub {i % 5}")
             for i in range(1000)]
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_category, bench_subcategory, bench_team, "
                           "bench_agent, bench_requester")  # fmt: skip
            cursor.execute(
                "CREATE TEMP TABLE bench_category AS SELECT id, group_id, "
                "(row_number() OVER (ORDER BY id)) - 1 AS n FROM catalog_category"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_subcategory AS SELECT id, category_id, "
                "(row_number() OVER (PARTITION BY category_id ORDER BY id)) - 1 AS n "
                "FROM catalog_subcategory"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_team AS SELECT id, "
                "(row_number() OVER (ORDER BY id)) - 1 AS n FROM catalog_team"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_agent AS SELECT m.user_id AS id, t.n AS team_n, "
                "(row_number() OVER (PARTITION BY m.team_id ORDER BY m.user_id)) - 1 AS n "
                "FROM catalog_teammember m JOIN bench_team t ON t.id = m.team_id"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_requester AS SELECT id, "
                "(row_number() OVER (ORDER BY id)) - 1 AS n FROM accounts_user "
                "WHERE email LIKE 'req%@bench.example'"
            )
            cursor.execute(FILL_SQL, {"n": tickets})
            # History: one "Resolved" event per resolution, a reopen on every 20th.
            cursor.execute(
                "INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, field, old_value, "
                "new_value, reason, is_internal, version, created_at) "
                "SELECT id, assignee_id, 'status', 'status', 'in_progress', 'resolved', '', "
                "false, 2, resolved_at FROM tickets_ticket WHERE resolved_at IS NOT NULL"
            )
            cursor.execute(
                "INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, field, old_value, "
                "new_value, reason, is_internal, version, created_at) "
                "SELECT id, requester_id, 'status', 'status', 'resolved', 'in_progress', '', "
                "false, 3, resolved_at + interval '1 hour' FROM tickets_ticket "
                "WHERE resolved_at IS NOT NULL AND id % 20 = 0"
            )
    from portal.analytics import rollup

    rollup.rebuild()  # the SQL above bypassed the services the rollup follows
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute("VACUUM ANALYZE tickets_ticketevent")
        cursor.execute("VACUUM ANALYZE analytics_ticketcount")
    print(f"filled: {Ticket.objects.count():,} tickets, {TicketEvent.objects.count():,} events")
    return admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    from portal.accounts.models import User

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL to a throwaway database.")
    if not args.reuse:
        started = time.perf_counter()
        fill(args.tickets)
        print(f"data generated in {time.perf_counter() - started:.0f} s")
    people = {
        "admin": User.objects.get(email="admin@bench.example"),
        "spoc": User.objects.get(email="spoc@bench.example"),
        "agent": User.objects.get(email="agent0@bench.example"),
        "requester": User.objects.get(email="req0@bench.example"),
    }
    pages = [
        ("admin", "/analytics?period=90", 300),
        ("admin", "/analytics?period=30", 300),
        ("admin", "/analytics?period=90&priority=high", 300),
        ("spoc", "/analytics?period=90", 300),
        ("agent", "/analytics?period=90", 300),
        ("admin", "/dashboard", 100),
        ("spoc", "/dashboard", 100),
        ("agent", "/dashboard", 100),
        ("requester", "/dashboard", 100),
    ]
    print(f"{'persona':<10} {'page':<40} {'median ms':>10} {'p95 ms':>8} {'target':>7}")
    for persona, url, target in pages:
        client = Client()
        client.force_login(people[persona])
        median, p95 = common.timed_get(client, url, args.runs)
        flag = "ok" if p95 <= target else "SLOW"
        print(f"{persona:<10} {url:<40} {median:>10.1f} {p95:>8.1f} {target:>6} {flag}")


if __name__ == "__main__":
    main()
