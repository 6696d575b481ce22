"""The daily rollup (`TicketCount`): how it is kept exact and how it is rebuilt.

Each ticket *contributes* a few rows to the rollup, a pure function of its current values
(`ticket_rows`) and of its status history (`event_rows`):

- created: (day raised, group, category, subcategory, team, priority, status now);
- resolved: (day of the current `resolved_at`, group, category, team, assignee, priority);
- open: (group, category, team, assignee, priority, status), open per team: (team, assigned
  or not, priority, status) and open by day: (day raised, group, category, team, priority),
  while the ticket is new, in progress or on hold;
- resolutions / reopens: per status change to Resolved / from Resolved or Closed back to an
  open status, (day of the change, the ticket's current group, category, team, priority).

Incremental path: every ticket service sends `tickets.signals.ticket_changed` inside its
transaction with the ticket before and after; `on_ticket_changed` subtracts the rows the
ticket contributed before and adds those it contributes now, in one upsert
(`n = n + excluded.n`, never a read-modify-write in Python), so concurrent changes add up
exactly and roll back with their transaction. When group, category, team or priority
change, the ticket's earlier status changes move with it (one read of its history; the
ticket row is locked by the service, so that history cannot change meanwhile).

Rebuild path (`rebuild()`, `manage.py analytics_rollup`): the same rows computed by
GROUP BY over all tickets and status events, in one transaction that locks the rollup
against concurrent upserts. Tests check that both paths agree with each other and with
direct counts after random sequences of service calls.
"""

import datetime as dt
from collections import Counter

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from portal.analytics.models import KEY, TicketCount
from portal.tickets import access
from portal.tickets.models import OPEN_STATUSES, Status, Ticket, TicketEvent
from portal.tickets.signals import snapshot

M = TicketCount.Measure
# Measures without a day (open now) use this one, so the unique key has no NULL.
NO_DAY = dt.date(2000, 1, 1)
DONE_STATUSES = [Status.RESOLVED.value, Status.CLOSED.value]
OPEN_STATUS_CODES = sorted(OPEN_STATUSES)
# The assignee of an open-per-team row held by someone (0: nobody).
SOMEONE = -1
# A status event counted by the rollup: its measure (resolution or reopen) as a condition.
# History rows store status codes (portal/tickets/history.py), never labels.
RESOLUTION = Q(new_value=Status.RESOLVED.value)
REOPEN = Q(old_value__in=DONE_STATUSES, new_value__in=OPEN_STATUS_CODES)


def local_day(value: dt.datetime) -> dt.date:
    """The calendar day of an instant in the portal's time zone (TIME_ZONE)."""
    return timezone.localtime(value, timezone.get_default_timezone()).date()


def _dims(state: dict) -> tuple:
    """(group, category, team, priority): what an event row is keyed by besides its day."""
    return (state["group_id"] or 0, state["category_id"] or 0, state["team_id"] or 0,
            state["priority"])  # fmt: skip


def ticket_rows(state: dict | None) -> Counter:
    """The rows a ticket in `state` (a `signals.snapshot`) contributes, as key → count."""
    rows: Counter = Counter()
    if state is None:
        return rows
    group, category, team, priority = _dims(state)
    subcategory, assignee = state["subcategory_id"] or 0, state["assignee_id"] or 0
    status = state["status"]
    raised = local_day(state["created_at"])
    rows[(M.CREATED, raised, group, category, subcategory, team, 0, priority, status)] += 1
    if state["resolved_at"] is not None:
        day = local_day(state["resolved_at"])
        rows[(M.RESOLVED, day, group, category, 0, team, assignee, priority, "")] += 1
    if status in OPEN_STATUSES:
        rows[(M.OPEN, NO_DAY, group, category, 0, team, assignee, priority, status)] += 1
        held = SOMEONE if assignee else 0
        rows[(M.OPEN_PER_TEAM, NO_DAY, 0, 0, 0, team, held, priority, status)] += 1
        rows[(M.OPEN_BY_DAY, raised, group, category, 0, team, 0, priority, "")] += 1
    return rows


def event_measure(kind: str, old: str, new: str) -> str | None:
    """The event measure a history row counts towards, if any."""
    if kind != TicketEvent.Kind.STATUS:
        return None
    if new == Status.RESOLVED:
        return M.RESOLUTIONS
    if old in DONE_STATUSES and new in OPEN_STATUSES:
        return M.REOPENS
    return None


def event_rows(dims: tuple, history: Counter) -> Counter:
    """Rows for a ticket's counted status changes, `history` being (measure, day) → count."""
    group, category, team, priority = dims
    return Counter(
        {(measure, day, group, category, 0, team, 0, priority, ""): n
         for (measure, day), n in history.items()}
    )  # fmt: skip


def _history(events) -> Counter:
    counted: Counter = Counter()
    for kind, old, new, at in events:
        measure = event_measure(kind, old, new)
        if measure is not None:
            counted[(measure, local_day(at))] += 1
    return counted


def on_ticket_changed(sender, *, ticket: Ticket, before: dict | None, events, **kwargs) -> None:
    """Apply one service change to the rollup (connected in AnalyticsConfig.ready)."""
    after = snapshot(ticket)
    delta = ticket_rows(after)
    delta.subtract(ticket_rows(before))
    written = _history((e.kind, e.old_value, e.new_value, e.created_at) for e in events)
    if before is not None and _dims(before) != _dims(after):
        # The ticket's earlier status changes are counted under its old dimensions: move
        # them. Its history (the events just written included) is a few rows on
        # event_ticket_time, and cannot change meanwhile: the service holds the row lock.
        everything = _history(
            access.system_read(TicketEvent)
            .filter(ticket_id=ticket.pk, kind=TicketEvent.Kind.STATUS)
            .filter(RESOLUTION | REOPEN)
            .values_list("kind", "old_value", "new_value", "created_at")
        )
        earlier = everything.copy()
        earlier.subtract(written)
        delta.update(event_rows(_dims(after), everything))
        delta.subtract(event_rows(_dims(before), earlier))
    else:
        delta.update(event_rows(_dims(after), written))
    apply(delta)


def apply(delta: Counter) -> None:
    """Add `delta` (key → ±count) to the rollup in one atomic upsert statement.

    Keys are sorted so two transactions touching the same rows lock them in the same
    order (no deadlock); zero entries are skipped. Rows that reach 0 stay (harmless, and
    the next rebuild drops them).
    """
    changes = sorted(((key, n) for key, n in delta.items() if n), key=lambda kv: str(kv[0]))
    if not changes:
        return
    q = connection.ops.quote_name
    table = q(TicketCount._meta.db_table)
    columns = [q(TicketCount._meta.get_field(name).column) for name in [*KEY, "n"]]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = []
    for key, n in changes:
        params.extend([*key, n])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - names from the model
            f"{', '.join([placeholders] * len(changes))} "
            f"ON CONFLICT ({', '.join(columns[:-1])}) DO UPDATE SET n = {table}.n + excluded.n",
            params,
        )


# --- Rebuild --------------------------------------------------------------------------


def _day(field: str):
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def _zero(field: str):
    return Coalesce(F(field), Value(0))


def _sources():
    """One queryset per measure, annotating the KEY columns as k_* in KEY order."""
    blank = Value("", output_field=CharField())
    zero = Value(0)
    opened = Q(status__in=OPEN_STATUSES)
    group, category = F("group_id"), F("category_id")
    held = Case(When(assignee_id__isnull=True, then=zero), default=Value(SOMEONE))
    specs = [
        (M.CREATED, Q(), _day("created_at"), group, category, _zero("subcategory_id"), zero,
         F("status")),
        (M.RESOLVED, Q(resolved_at__isnull=False), _day("resolved_at"), group, category, zero,
         _zero("assignee_id"), blank),
        (M.OPEN, opened, Value(NO_DAY), group, category, zero, _zero("assignee_id"),
         F("status")),
        (M.OPEN_PER_TEAM, opened, Value(NO_DAY), zero, zero, zero, held, F("status")),
        (M.OPEN_BY_DAY, opened, _day("created_at"), group, category, zero, zero, blank),
    ]  # fmt: skip
    for measure, condition, day, by_group, by_category, subcategory, assignee, status in specs:
        yield access.system_read(Ticket).filter(condition).order_by().annotate(
            **_key(Value(measure, output_field=CharField()), day, by_group, by_category,
                   subcategory, _zero("team_id"), assignee, F("priority"), status)
        )  # fmt: skip
    yield (
        access.system_read(TicketEvent).filter(RESOLUTION | REOPEN, kind=TicketEvent.Kind.STATUS)
        .order_by()
        .annotate(
            **_key(
                Case(When(RESOLUTION, then=Value(M.RESOLUTIONS)), default=Value(M.REOPENS),
                     output_field=CharField()),
                _day("created_at"), F("ticket__group_id"), F("ticket__category_id"), zero,
                _zero("ticket__team_id"), zero, F("ticket__priority"), blank,
            )
        )
    )  # fmt: skip


def _key(*expressions) -> dict:
    return dict(zip(ALIASES, expressions, strict=True))


ALIASES = ["k_measure", "k_day", "k_group", "k_category", "k_subcategory", "k_team",
           "k_assignee", "k_priority", "k_status"]  # fmt: skip


@transaction.atomic
def rebuild() -> int:
    """Recompute the whole rollup from tickets and their history; returns the row count.

    One transaction: readers see the old rollup until it commits. On PostgreSQL the table
    is locked first (EXCLUSIVE: reads go on, upserts wait), so a ticket change made during
    the rebuild is either in the snapshot the INSERTs read or applied after them — never
    lost or counted twice. SQLite has one writer at a time anyway.
    """
    q = connection.ops.quote_name
    table = q(TicketCount._meta.db_table)
    columns = ", ".join(q(TicketCount._meta.get_field(name).column) for name in [*KEY, "n"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - name from the model
        for source in _sources():
            grouped = source.values(*ALIASES).annotate(k_n=Count("pk"))
            selected = list(grouped.query.annotation_select)
            if selected != [*ALIASES, "k_n"]:  # column order is what INSERT … SELECT relies on
                raise RuntimeError(f"Unexpected column order {selected}")
            select_sql, params = grouped.query.sql_with_params()
            cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql}", params)  # noqa: S608 - names from the model
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - name from the model
        return cursor.fetchone()[0]
