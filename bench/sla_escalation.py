"""Benchmark: the SLA escalation query at a million tickets (issue 11's target: < 100 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_sla \
        .venv/bin/python bench/sla_escalation.py [--fill] [--ahead HOURS] [-v]

Run it against a *copy* of a bench database (`createdb -T portal_bench portal_bench_sla`,
then `manage.py migrate`): `--fill` writes SLA columns into every ticket (policy
"Standard", due times from `created_at` by priority in wall-clock hours, the at-risk lines
at 80 %) and marks every line crossed more than 10 minutes ago as already told, which is
the steady state of a worker running `escalate_sla` every minute; the few lines crossed
in the last 10 minutes are the backlog one run finds.

Prints EXPLAIN (ANALYZE, BUFFERS) of the four candidate queries (`sla_jobs._condition`,
exactly as the task runs them) and the time of a whole `escalate()` run inside a
transaction that is rolled back (the database is left as it was). `--ahead 24` measures
the backlog after a day without a worker (each run claims at most ESCALATION_BATCH per
target and line, oldest first).
"""

import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

FILL_SQL = [
    """
    UPDATE tickets_ticket t SET
      sla_policy_name = 'Standard',
      sla_response_due_at = t.created_at + r.resp,
      sla_response_at_risk_at = t.created_at + r.resp * 0.8,
      sla_resolution_due_at = t.created_at + r.res,
      sla_resolution_at_risk_at = t.created_at + r.res * 0.8
    FROM (VALUES ('urgent', interval '3 hours', interval '12 hours'),
                 ('high', interval '12 hours', interval '1 day'),
                 ('medium', interval '1 day', interval '3 days'),
                 ('low', interval '2 days', interval '5 days')) AS r(priority, resp, res)
    WHERE t.priority = r.priority AND t.status <> 'cancelled'
    """,
    """
    UPDATE tickets_ticket SET
      sla_response_at_risk_notified_at = CASE WHEN sla_response_at_risk_at
        < now() - interval '10 minutes' THEN sla_response_at_risk_at END,
      sla_response_breached_notified_at = CASE WHEN sla_response_due_at
        < now() - interval '10 minutes' THEN sla_response_due_at END,
      sla_resolution_at_risk_notified_at = CASE WHEN sla_resolution_at_risk_at
        < now() - interval '10 minutes' THEN sla_resolution_at_risk_at END,
      sla_resolution_breached_notified_at = CASE WHEN sla_resolution_due_at
        < now() - interval '10 minutes' THEN sla_resolution_due_at END
    WHERE sla_policy_name <> ''
    """,
]


class Rollback(Exception):
    pass


def main() -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from portal.tickets import sla, sla_jobs
    from portal.tickets.models import Ticket

    if "--fill" in sys.argv:
        with connection.cursor() as cursor:
            for statement in FILL_SQL:
                cursor.execute(statement)
            cursor.execute("VACUUM ANALYZE tickets_ticket")
    print(f"tickets: {Ticket.objects.count():,}")
    now = timezone.now()
    if "--ahead" in sys.argv:  # as if the worker had been down this many hours
        now += dt.timedelta(hours=float(sys.argv[sys.argv.index("--ahead") + 1]))
    print(f"now: {now:%Y-%m-%d %H:%M} UTC")
    for target in sla.TARGETS:
        for line in ("breached", "at_risk"):
            column = target.at_risk if line == "at_risk" else target.due
            queryset = (
                Ticket.objects.filter(sla_jobs._condition(target, line, now))
                .order_by(column)
                .values_list("pk", flat=True)[: sla_jobs.ESCALATION_BATCH]
            )
            plan = queryset.explain(analyze=True, buffers=True)
            index = re.search(r"(?:using|Index Scan on) (ticket_\w+)", plan)
            total = re.search(r"Execution Time: ([\d.]+) ms", plan)
            print(
                f"{target.key:10} {line:8} rows={len(list(queryset)):4} "
                f"index={index.group(1) if index else 'NONE'} "
                f"execution={total.group(1) if total else '?'} ms"
            )
            if "-v" in sys.argv:
                print(plan)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            counts = sla_jobs.escalate(now)
            raise Rollback
    except Rollback:
        pass
    print(f"escalate(): {counts} in {(time.perf_counter() - started) * 1000:.0f} ms (rolled back)")


if __name__ == "__main__":
    main()
