"""Statements whose one plan serves every value: planned once per connection.

Prepared statements run with `plan_cache_mode=force_custom_plan` (settings.py): each run
is planned for its values, because a plan PostgreSQL kept for any value once read every
open ticket for an agent's dashboard. For a read by a key (a ticket by its id, a ticket's
comments, a team's members) the best plan does not depend on the values, and planning
is most of the statement's cost: the ticket page's read of the ticket and its facts
spent 0.26–0.33 ms planning and 0.05–0.11 ms running at 100,000 tickets.

`execute` runs such a statement with `plan_cache_mode=force_generic_plan` for that
statement alone: `set_config(…, is_local => true)` goes in the same pipeline as the
statement (one round trip), so it ends with the implicit transaction the pipeline runs
in; inside a transaction a third message sets back the mode the statement found. Once
psycopg has prepared the statement (its sixth run on the connection), PostgreSQL plans it
once and keeps the plan for as long as psycopg keeps the statement (its 100 most used).
Measured in docs/benchmarks.md ("Reads by a key planned once").

Without prepared statements (SQLite; `DB_PREPARED_STATEMENTS=0`, the default behind
pgbouncer in transaction pooling) every run is planned anyway and the statement runs as
it is. The `set_config` messages go through psycopg's own connection, not Django's
cursor: like `BEGIN`, they are not statements of the page, and the query counts pinned
by tests do not see them; the time they take is the statement's.
"""

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# The mode the statement found is kept in a setting of the transaction first (the inner
# call, an argument, runs before the outer one), so the third message puts back exactly
# that: the connection's own, or what the transaction set (analytics/postgres.py).
_ONE_PLAN = (
    "SELECT set_config('plan_cache_mode', 'force_generic_plan' || left(set_config("
    "'portal.plan_cache_mode', current_setting('plan_cache_mode'), true), 0), true)"
)
_BACK = "SELECT set_config('plan_cache_mode', current_setting('portal.plan_cache_mode'), true)"


def keeps_plans(connection: BaseDatabaseWrapper) -> bool:
    """Whether `connection` prepares statements (PostgreSQL, DB_PREPARED_STATEMENTS)."""
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None
    )


def execute(connection: BaseDatabaseWrapper, cursor: Any, sql: str, params: Sequence) -> None:
    """Run `sql` on `cursor` (Django's, of `connection`) with one plan for every value."""
    if not keeps_plans(connection):
        cursor.execute(sql, params)
        return
    # The innermost wrapper of Django's execute: the debug cursor, the tests' query counts
    # and the benchmarks' timers wrap the whole pipeline, its answer included.
    with connection.execute_wrapper(_one_plan):
        cursor.execute(sql, params)


def _one_plan(execute, sql, params, many, context):
    connection = context["connection"]
    driver = connection.connection  # open: Django's cursor connected it
    in_transaction = not connection.get_autocommit()
    with connection.wrap_database_errors, driver.pipeline():
        driver.execute(_ONE_PLAN)
        try:
            return execute(sql, params, many, context)
        finally:
            # Even when the statement was refused before it was sent: the first message
            # is sent all the same, with the pipeline.
            if in_transaction:
                driver.execute(_BACK)
