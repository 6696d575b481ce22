"""`status__in` over the ticket's status codes writes them into the SQL (lib/code_lookups.py):
a partial index of open tickets then serves a plan made before the values are known
(routing's, lib/plans.py); anything else goes as parameters; the rows are the same either
way, on every backend."""

import pytest
from django.db import connection
from django.db.models import Q

from portal.lib import plans
from portal.tickets import routing
from portal.tickets.models import OPEN_STATUSES, Comment, Status, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _sql(queryset) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def test_the_status_codes_are_written_into_the_sql_with_no_parameters():
    sql, params = _sql(Ticket.objects.filter(status__in=OPEN_STATUSES))
    assert "\"status\" IN ('new', 'in_progress', 'on_hold')" in sql
    assert params == ()
    # Through a relation, and given twice or with None: each code once, None left out.
    sql, params = _sql(Comment.objects.filter(ticket__status__in=["closed", None, "closed"]))
    assert "\"status\" IN ('closed')" in sql and params == ()
    # However they are asked, the same codes are the same statement (the choices' order).
    asked = [["on_hold", "new"], ("new", "on_hold"), {"on_hold", Status.NEW}]
    assert len({_sql(Ticket.objects.filter(status__in=codes))[0] for codes in asked}) == 1


@pytest.mark.parametrize(
    "values",
    [["new", "x'); DROP TABLE tickets_ticket; --"], ["new", "NEW"], ["new", 3]],
    ids=["injection", "not-a-code-by-case", "not-text"],
)
def test_anything_but_the_codes_goes_as_parameters(values):
    sql, params = _sql(Ticket.objects.filter(status__in=values))
    assert "'new'" not in sql
    assert len(params) == len(values)


def test_the_rows_are_those_the_parameters_find(raise_ticket):
    open_one, closed = raise_ticket(), raise_ticket()
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    assert set(Ticket.objects.filter(status__in=OPEN_STATUSES)) == {open_one}
    assert set(Ticket.objects.filter(status__in=[Status.CLOSED, "no-such"])) == {closed}
    assert set(Ticket.objects.filter(~Q(status__in=OPEN_STATUSES))) == {closed}
    assert not Ticket.objects.filter(status__in=[]).exists()
    assert not Ticket.objects.filter(status__in=[None]).exists()


def test_routing_counts_open_tickets_from_the_index_of_open_ones_with_its_one_plan(
    raise_ticket, org
):
    """The member's open count, in the plan made before the team is known, reads the
    partial index of open tickets: possible only with the status codes in the SQL
    (lib/code_lookups.py); with them as parameters that plan read every ticket each
    member was ever given."""
    if not plans.keeps_plans(connection):
        pytest.skip("prepared statements are PostgreSQL's (DB_PREPARED_STATEMENTS)")
    raise_ticket()
    runs = 8  # psycopg prepares a statement at its sixth run on a connection
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append(params)
        return execute(sql, params, many, context)

    for _ in range(runs):
        with connection.execute_wrapper(keep):
            routing._candidates(org.team_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%FROM "catalog_teammember"%'],
        )
        [(name, generic, custom)] = cursor.fetchall()
        assert generic >= runs - 5 and custom == 0
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            values = ", ".join(  # the team's ids and the count's 0 (codes: without them)
                str(v) if isinstance(v, int) else f"'{v}'" for v in sent[-1]
            )
            cursor.execute(f'EXPLAIN EXECUTE "{name}"({values})')
            plan = "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("RESET plan_cache_mode")
    assert "ticket_open_by_assignee" in plan, plan
