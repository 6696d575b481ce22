"""What PostgreSQL holds about a table, for tests of the settings migrations give it."""

from django.db import connection


def table_options(table: str) -> dict[str, str]:
    """The table's storage parameters (`ALTER TABLE … SET (…)`), by name, as text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
        (options,) = cursor.fetchone()
    return dict(option.split("=", 1) for option in options or [])
