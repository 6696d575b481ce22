"""Benchmark: the new-ticket suggestions and /help search at 10,000 articles (issue 24).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/kb_suggestions.py [--articles 10000] [--runs 20]

Creates (or recreates) its own database `portal_bench_kb_<articles>`, migrates it, writes
the demo organisation's groups and categories, the demo's thirty articles and generated
ones up to `--articles` (the vocabulary of bench/vocabulary.py: every group's things and
problems, openers and closers; 90 % published, 10 % for workers only), VACUUM ANALYZEs, then
prints for the twenty titles of portal/kb/tests/test_relevance.py:
- the suggestion query alone (`kb.search.suggest`, as the endpoint runs it, for a
  requester): median and p95 over every title × run, without and with a category picked;
- EXPLAIN (ANALYZE, BUFFERS) of one of them;
- GET /help/suggestions and GET /help?q= through Django's test client (session, user,
  roles, templates included): median and p95.

Beside the tickets (`--tickets N`): copies the ticket benchmark's database
`portal_bench_<N>` (made by `make bench` / `bench/generate.py --reuse`; never generated
here) to `portal_bench_kb_on_<N>` (CREATE DATABASE … TEMPLATE, so the shared one is left
as it is), migrates the copy, files the generated articles under *its* groups, categories
and teams, and also times GET /tickets/new (the page the suggestion box sits on) for one of
its requesters:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/kb_suggestions.py --tickets 1000000

The suggestion query reads no ticket table; this shows that holds on a database of that
size (shared buffers, planner statistics and the page's other queries included).
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402  (bench/common.py, next to this file)
import vocabulary  # noqa: E402

SEED = 24


def recreate(name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(common.conninfo(common.database_url("postgres")), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return common.database_url(name)


def copy_tickets_database(tickets: int) -> str:
    """A private copy of `portal_bench_<tickets>`; SystemExit when it does not exist."""
    import psycopg
    from psycopg import sql

    source = common.database_name(tickets)
    name = common.database_name(0, f"{common.PREFIX}kb_on_{tickets}")
    with psycopg.connect(common.conninfo(common.database_url("postgres")), autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [source]).fetchone():
            raise SystemExit(
                f"No {source}: build it first (make bench BENCH_TICKETS={tickets}); "
                "this script does not generate tickets."
            )
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
    return common.database_url(name)


def fill_beside_tickets(total: int) -> None:
    """`total` generated articles under the ticket benchmark's own organisation."""
    from django.core.management import call_command

    from portal.catalog.models import Category, Team
    from portal.kb.models import Article

    call_command("migrate", verbosity=0, interactive=False)
    Article.objects.all().delete()
    rng = random.Random(SEED)
    categories = list(Category.objects.select_related("group"))
    teams = list(Team.objects.filter(is_active=True))
    by_code = {code: group for code, group in vocabulary.GROUPS.items()}
    rows = []
    for index in range(total):
        category = rng.choice(categories)
        words = by_code.get(category.group.code) or rng.choice(list(vocabulary.GROUPS.values()))
        _, things = rng.choice(words["categories"])
        thing, problem = rng.choice(things), rng.choice(words["problems"])
        body = " ".join([
            f"{rng.choice(vocabulary.OPENERS)}, if your {thing} {problem}:",
            f"check the {thing} in {rng.choice(vocabulary.PLACES)} first.",
            rng.choice(vocabulary.CLOSERS),
        ])  # fmt: skip
        rows.append(Article(
            slug=f"bench-{index}", title=f"{thing.capitalize()} {problem} ({index})"[:200],
            body=body, group=category.group, category=category, owner_team=rng.choice(teams),
            status="published" if rng.random() < 0.9 else "draft",
            audience="workers" if rng.random() < 0.1 else "everyone",
            helpful_yes=rng.randint(0, 40), helpful_no=rng.randint(0, 10),
        ))  # fmt: skip
    _load(rows)


def _load(rows) -> None:
    from django.db import connection

    from portal.kb.models import Article
    from portal.kb.search import article_vector

    # A benchmark's bulk load, not a state change of the product: no history rows needed.
    Article.objects.bulk_create(rows, batch_size=1000)
    Article.objects.filter(search_document__isnull=True).update(search_document=article_vector())
    # The steady state autovacuum keeps: statistics, and the GIN index's pending list (where
    # a bulk load's entries wait, scanned linearly: 16 ms per search here) merged.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE kb_article")


def fill(total: int) -> None:
    """The demo organisation and articles, then generated articles up to `total`."""
    from django.core.management import call_command

    from portal.accounts.models import User
    from portal.catalog import demo as catalog_demo
    from portal.core.demo import load_demo_users
    from portal.kb import demo as kb_demo
    from portal.kb.models import Article

    call_command("migrate", verbosity=0, interactive=False)
    users = {u.email: u for u in load_demo_users()}
    catalog_demo.load(users)
    kb_demo.load(users)
    rng = random.Random(SEED)
    template = list(Article.objects.select_related("group", "category", "owner_team"))
    author = User.objects.get(email="lead@example.com")
    things = [
        (thing, problem)
        for group in vocabulary.GROUPS.values()
        for _, objects in group["categories"]
        for thing in objects
        for problem in group["problems"]
    ]
    rows = []
    for index in range(total - len(template)):
        base = rng.choice(template)
        thing, problem = rng.choice(things)
        title = f"{thing.capitalize()} {problem}: what to check ({index})"
        body = " ".join([
            f"{rng.choice(vocabulary.OPENERS)}, if your {thing} {problem}:",
            f"check the {thing} in {rng.choice(vocabulary.PLACES)} first.",
            base.body,
            rng.choice(vocabulary.CLOSERS),
        ])  # fmt: skip
        rows.append(Article(
            slug=f"bench-{index}", title=title[:200], body=body, group=base.group,
            category=base.category, owner_team=base.owner_team, author=author,
            status="published" if rng.random() < 0.9 else "draft",
            audience="workers" if rng.random() < 0.1 else "everyone",
            helpful_yes=rng.randint(0, 40), helpful_no=rng.randint(0, 10),
        ))  # fmt: skip
    _load(rows)


def percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--tickets", type=int, default=0,
        help="measure beside the tickets of portal_bench_<N> (a copy of it; never generated)",
    )  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    if args.tickets:
        url = copy_tickets_database(args.tickets)
        print(
            f"copied {common.database_name(args.tickets)} in {time.perf_counter() - started:.1f} s"
        )
        common.setup_django(url)
        fill_beside_tickets(args.articles)
    else:
        url = recreate(common.database_name(0, f"{common.PREFIX}kb_{args.articles}"))
        common.setup_django(url)
        fill(args.articles)
    print(f"filled {args.articles} articles in {time.perf_counter() - started:.1f} s")

    from django.db import connection
    from django.test import Client

    from portal.accounts.models import User
    from portal.catalog.models import Category
    from portal.kb import search
    from portal.kb.models import Article
    from portal.kb.tests.test_relevance import TYPED
    from portal.tickets import access
    from portal.tickets.models import Ticket

    if args.tickets:
        # A requester of the ticket benchmark (someone who raised tickets, works none).
        employee = User.objects.get(pk=access.system_read(Ticket).order_by("id").values_list(
            "requester_id", flat=True
        )[:1].get())  # fmt: skip
        category = Category.objects.filter(group__code="IT").order_by("id").first()
        print(f"tickets in the database: {access.system_read(Ticket).count():,}")
    else:
        employee = User.objects.get(email="employee@example.com")
        category = Category.objects.get(name="Network", group__name="IT")
    for label, extra in (("title only", {}), ("title + category", {"category_id": category.pk})):
        samples = []
        for _ in range(args.runs):
            for typed, _expected in TYPED:
                start = time.perf_counter()
                search.suggest(Article.objects.suggestible_to(employee), typed, **extra)
                samples.append((time.perf_counter() - start) * 1000)
        print(f"suggest() {label}: {percentiles(samples)}")

    rows = Article.objects.suggestible_to(employee)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        search.suggest(rows, "my vpn token says invalid code", category_id=category.pk)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[0]["sql"])
        print("\n".join(row[0] for row in cursor.fetchall()))

    client = Client()
    client.force_login(employee)
    pages = [
        ("GET /help/suggestions", "/help/suggestions?title=vpn+token+invalid&kb_visit=" + "a" * 32),
        (
            "GET /help/suggestions (with category)",
            f"/help/suggestions?title=vpn+token+invalid&category={category.pk}&group="
            f"{category.group_id}&kb_visit=" + "a" * 32,
        ),
        ("GET /help?q=", "/help?q=vpn+token"),
    ]
    if args.tickets:
        pages.append(("GET /tickets/new", "/tickets/new"))
    for name, path in pages:
        median, p95 = common.timed_get(client, path, args.runs)
        print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms (n={args.runs})")


if __name__ == "__main__":
    main()
