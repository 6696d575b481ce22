"""Statements whose one plan serves every value: planned once per connection.

Prepared statements run with `plan_cache_mode=force_custom_plan` (settings.py): each run
is planned for its values, because a plan PostgreSQL kept for any value once read every
open ticket for an agent's dashboard. For a read by a key (a ticket by its id, a ticket's
comments, a team's members) the best plan does not depend on the values, and planning
is most of the statement's cost: the ticket page's read of the ticket and its facts
spends about 0.3 ms planning and 0.06 ms running at 100,000 tickets.

`execute` runs such a statement with `plan_cache_mode=force_generic_plan` for that
statement alone: `set_config(…, is_local => true)` goes in the same pipeline as the
statement (one round trip), so it ends with the implicit transaction the pipeline runs
in; inside a transaction a third message sets the connection's own mode back. Once
psycopg has prepared the statement (its sixth run on the connection), PostgreSQL plans it
once and keeps the plan.

Without prepared statements (SQLite, behind pgbouncer in transaction pooling) every run
is planned anyway and the statement runs as it is. The `set_config` messages go through
psycopg's own connection, not Django's cursor: like `BEGIN`, they are not statements of
the page, and the query counts pinned by tests do not see them.
"""

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

_ONE_PLAN = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
_BACK = "SET LOCAL plan_cache_mode TO DEFAULT"


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
    driver = connection.connection  # open: Django's cursor connected it
    with connection.wrap_database_errors, driver.pipeline():
        driver.execute(_ONE_PLAN)
        cursor.execute(sql, params)
        if not connection.get_autocommit():
            driver.execute(_BACK)
