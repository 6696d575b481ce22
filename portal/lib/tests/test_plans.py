"""Statements with one plan for every value (`portal.lib.plans`): planned once per
connection once prepared, the connection's own plan mode untouched around them, in and
out of a transaction, and after an error."""

import time

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.accounts.models import User
from portal.lib import compiled, plans

pytestmark = pytest.mark.django_db

RUNS = 8  # psycopg prepares a statement at its sixth run on a connection


@pytest.fixture(autouse=True)
def _prepared_statements():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # On PostgreSQL the suite runs as production does: prepared statements on.
    assert plans.keeps_plans(connection)


def _plans_of(marker: str) -> tuple[int, int]:
    """(generic, custom) plans of the prepared statements whose text holds `marker`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)"
            " FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{marker}%"],
        )
        generic, custom = cursor.fetchone()
    return int(generic), int(custom)


def _mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        return cursor.fetchone()[0]


def _run(sql: str, params: list, *, one_plan: bool) -> list:
    with connection.cursor() as cursor:
        if one_plan:
            plans.execute(connection, cursor, sql, params)
        else:
            cursor.execute(sql, params)
        return cursor.fetchall()


def test_a_statement_with_one_plan_is_planned_once_and_others_for_their_values():
    own = "SELECT %s::int + 1 AS one_plan_marker"
    other = "SELECT %s::int + 2 AS each_run_marker"
    for n in range(RUNS):
        assert _run(own, [n], one_plan=True) == [(n + 1,)]
        assert _run(other, [n], one_plan=False) == [(n + 2,)]
    generic, custom = _plans_of("one_plan_marker")
    assert generic >= RUNS - 5 and custom == 0
    # The connection's own mode: every other statement planned for its values.
    assert _plans_of("each_run_marker")[0] == 0
    assert _mode() == "force_custom_plan"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_too_a_statement_is_planned_once_and_the_mode_left_alone():
    """Most reads run in no transaction (the session's, the ticket page's): the pipeline's
    own implicit transaction carries the mode and ends with it."""
    assert connection.get_autocommit()
    for n in range(RUNS):
        assert _run("SELECT %s::int AS autocommit_marker", [n], one_plan=True) == [(n,)]
        assert _mode() == "force_custom_plan"
    generic, custom = _plans_of("autocommit_marker")
    assert generic >= RUNS - 5 and custom == 0


def test_what_counts_and_times_statements_sees_the_statement_once_with_its_answer():
    """The set_config messages are not statements of the page; the statement's time is
    until its answer (a lower bound only: the server sleeps 0.2 s)."""
    seen = []

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, time.monotonic() - started))

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        _run("SELECT pg_sleep(%s::float8) IS NULL", [0.2], one_plan=True)
    assert [query["sql"] for query in captured.captured_queries] == [
        "SELECT pg_sleep(0.2::float8) IS NULL"
    ]
    [(sql, took)] = seen
    assert sql.startswith("SELECT pg_sleep") and took >= 0.2


def test_a_statement_refused_before_it_is_sent_leaves_the_transaction_in_its_mode():
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="cannot adapt"):
            _run("SELECT %s::text", [object()], one_plan=True)
        assert _mode() == "force_custom_plan"


def test_inside_a_transaction_the_mode_is_set_back_after_the_statement():
    with transaction.atomic():
        for n in range(RUNS):
            _run("SELECT %s::int AS in_transaction_marker", [n], one_plan=True)
            assert _mode() == "force_custom_plan"
    assert _plans_of("in_transaction_marker")[0] >= RUNS - 5


def test_the_mode_a_transaction_chose_for_itself_is_the_one_set_back():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('plan_cache_mode', 'auto', true)")
        _run("SELECT %s::int", [1], one_plan=True)
        assert _mode() == "auto"


@pytest.mark.django_db(transaction=True)
def test_an_error_is_the_database_error_it_would_be_and_leaves_the_mode_alone():
    assert connection.get_autocommit()  # no transaction: the pipeline's own ends with it
    with pytest.raises(DatabaseError, match="division by zero"):
        _run("SELECT 1 / %s::int", [0], one_plan=True)
    assert _mode() == "force_custom_plan"
    assert _run("SELECT 1 / %s::int", [1], one_plan=True) == [(1,)]


def test_an_error_inside_a_transaction_is_undone_with_its_savepoint():
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
            _run("SELECT 1 / %s::int", [0], one_plan=True)
        # The transaction goes on after its savepoint, in the connection's own mode.
        assert _mode() == "force_custom_plan"
        assert _run("SELECT 2 / %s::int", [1], one_plan=True) == [(2,)]


def test_a_compiled_read_with_one_plan_reads_what_the_orm_reads():
    person = User.objects.create_user("one.plan@example.com", "x", full_name="One Plan")
    for _ in range(RUNS):
        [(email, active)] = compiled.rows(
            "test plans: account by id",
            lambda pk: User.objects.filter(pk=pk).values_list("email", "is_active"),
            [person.pk],
            one_plan=True,
        )
        assert (email, active) == ("one.plan@example.com", True)
    assert _plans_of('"accounts_user"."email" AS "email", "accounts_user"."is_active"')[0] > 0


class _Connection:
    def __init__(self, vendor: str, options: dict) -> None:
        self.vendor, self.settings_dict = vendor, {"OPTIONS": options}


def test_only_a_connection_that_prepares_statements_keeps_plans():
    assert plans.keeps_plans(_Connection("postgresql", {"prepare_threshold": 5}))
    assert not plans.keeps_plans(_Connection("postgresql", {}))  # behind pgbouncer
    assert not plans.keeps_plans(_Connection("postgresql", {"prepare_threshold": None}))
    assert not plans.keeps_plans(_Connection("sqlite", {}))
