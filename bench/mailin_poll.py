"""Benchmark: the email-in poller reading 1,000 queued messages from a real IMAP server.

    .venv/bin/python bench/mailin_poll.py [--messages 1000] [--keep]

Creates a fresh database `portal_bench_mailin` (PostgreSQL: DATABASE_URL's server),
migrates it, adds the test personas and organisation and 50 more requesters, starts pymap
on loopback and APPENDs the messages: 70 % new tickets from the requesters, 20 % replies
to notifications the portal sent (comments), 10 % out-of-office mail. Then it runs the
poller as the worker's task would, batch after batch (INBOUND_BATCH_SIZE), until the
mailbox is empty, and prints: the total, each batch's wall time (how long the "mailin"
queue thread is busy before it takes its next task), each message's time (median, p95,
max) and the longest single transaction a message held (what other tasks and requests
could wait on). Then it polls once more and checks nothing doubled. Every message that
makes a ticket or comment is kept as read (raw mail, with its sha256) in a temporary
attachment folder, removed afterwards; the kept count and bytes are printed.
"""

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

DATABASE = f"{common.PREFIX}mailin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = common.database_url(DATABASE)
    _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    _admin("CREATE DATABASE {}")
    try:
        run(url, args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def _admin(statement: str) -> None:
    import psycopg
    from psycopg import sql

    info = common.conninfo(common.database_url("postgres"))
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(DATABASE)))


def run(url: str, args) -> None:
    common.setup_django(url)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from portal.attachments.storage import local_storage_config

    raw_dir = tempfile.mkdtemp(prefix="bench-mailin-")
    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(raw_dir)}
    settings.INBOUND_BATCH_SIZE = args.batch
    settings.INBOUND_SENDER_LIMIT_PER_HOUR = 10_000
    settings.INBOUND_TICKET_LIMIT_PER_HOUR = 10_000

    from portal.accounts.models import User
    from portal.mailin import poller, services
    from portal.mailin.models import InboundMessage, Mailbox
    from portal.mailin.tests import fixtures
    from portal.notifications.models import EmailDelivery
    from portal.testing.imap import ImapServer
    from portal.testing.org import make_org
    from portal.testing.personas import make_personas
    from portal.testing.smtp import free_port
    from portal.tickets import services as ticket_services

    personas = make_personas()
    org = make_org(personas)
    people = [
        User.objects.create_user(f"person{n}@example.com", common.PASSWORD, full_name=f"P {n}")
        for n in range(50)
    ]
    seeded = [
        ticket_services.ticket_create(
            requester=person,
            title=f"Seed {n}",
            description="x",
            group=org.group_x,
            category=org.hardware,
            subcategory=org.laptop,
        )  # fmt: skip
        for n, person in enumerate(people[:20])
    ]
    parents = list(
        EmailDelivery.objects.filter(
            ticket_pk_filter(seeded), recipient__in=people[:20]
        ).values_list("to_address", "message_id", "thread_id")
    )
    rng = random.Random(20)  # noqa: S311 - a fixed mix, not a secret
    raws = []
    for n in range(args.messages):
        roll = rng.random()
        if roll < 0.7:
            who = rng.choice(people).email
            raws.append(fixtures.plain(who, f"Bench ticket {n}", f"Message number {n}."))
        elif roll < 0.9:
            to, mid, root = rng.choice(parents)
            raws.append(fixtures.plain(to, f"Re: reply {n}", f"Reply number {n}.",
                                       in_reply_to=mid, references=f"{root} {mid}"))  # fmt: skip
        else:
            who = rng.choice(people).email
            raws.append(fixtures.exchange_out_of_office(who, f"x {n}", in_reply_to="<a@b>"))

    server = ImapServer(port=free_port())
    server.start()
    try:
        started = time.perf_counter()
        for start in range(0, len(raws), 100):
            server.append(*raws[start : start + 100])
        print(f"appended {len(raws)} messages in {time.perf_counter() - started:.1f} s")
        mailbox = Mailbox.objects.create(
            name="Bench", address="support@example.com", host="127.0.0.1", port=server.port,
            security="none", username=server.user, password=server.password,
            group=org.group_x, category=org.hardware, subcategory=org.laptop,
        )  # fmt: skip
        per_message: list[float] = []
        original = services.inbound_message_process

        def timed(**kwargs):
            t0 = time.perf_counter()
            try:
                return original(**kwargs)
            finally:
                per_message.append(time.perf_counter() - t0)

        services.inbound_message_process = timed
        batches = []
        started = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            result = poller.poll(mailbox)
            if result.error:
                raise SystemExit(result.error)
            if not result.moved:
                break
            batches.append((time.perf_counter() - t0, result.moved))
        total = time.perf_counter() - started
        services.inbound_message_process = original
        poller.poll(mailbox)  # once more: nothing new
        counts = dict(
            (outcome, InboundMessage.objects.filter(outcome=outcome).count())
            for outcome in ("ticket", "comment", "auto_reply", "duplicate")
        )
        kept = InboundMessage.objects.exclude(raw_key="")
        kept_count, kept_bytes = kept.count(), sum(kept.values_list("raw_size", flat=True))
        hashed = kept.exclude(raw_sha256="").count()
    finally:
        server.stop()
        shutil.rmtree(raw_dir, ignore_errors=True)
    per_message.sort()
    p95 = per_message[int(len(per_message) * 0.95) - 1]
    print(f"{len(per_message)} messages in {total:.1f} s ({len(per_message) / total:.0f}/s)")
    print("batches (s, moved): " + ", ".join(f"{s:.1f} s/{m}" for s, m in batches))
    print(
        f"per message: median {statistics.median(per_message) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {per_message[-1] * 1000:.0f} ms"
    )
    print(f"outcomes: {counts}")
    print(f"raw mail kept: {kept_count} messages, {kept_bytes} bytes, {hashed} with sha256")


def ticket_pk_filter(tickets):
    from django.db.models import Q

    query = Q()
    for ticket in tickets:
        query |= Q(event_key__startswith=f"ticket:{ticket.pk}:")
    return query


if __name__ == "__main__":
    main()
