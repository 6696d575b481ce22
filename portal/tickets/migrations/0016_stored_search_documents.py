"""Store the text vectors that search reads, on PostgreSQL only.

0002 indexed the expressions `to_tsvector(title || description)` and `to_tsvector(body)`.
The planner had no statistics on how common a word is in them, so for a rare word it
walked the "recently updated" index and recomputed the vector of every ticket it passed
(50–78 ms at 100,000 tickets for "printer", then the same for the comments of 1,554
tickets), where reading the GIN indexes first takes about 12 ms. Stored generated columns
give it per-word statistics (most common elements) and make testing one row cheap.

The ticket's vector also holds the answers of its request form (`form_values`: strings
and numbers, not the field codes), retired fields included, since they stay on the ticket.
Generated columns are kept by the database, so every writer (services, bulk updates,
imports, the benchmark's COPY) keeps them right. They are not model fields: Django never
loads them with a row (`portal/tickets/search.py` refers to them by column).

SQLite keeps its substring search and gets nothing here.
"""

from django.db import migrations

TICKET_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(description, ''))"
    " || jsonb_to_tsvector('simple'::regconfig, form_values, '[\"string\", \"numeric\"]')"
)
COMMENT_DOCUMENT = "to_tsvector('simple'::regconfig, coalesce(body, ''))"

FORWARDS = [
    "DROP INDEX IF EXISTS ticket_search_gin",
    "DROP INDEX IF EXISTS comment_search_gin",
    f"ALTER TABLE tickets_ticket ADD COLUMN search_document tsvector"
    f" GENERATED ALWAYS AS ({TICKET_DOCUMENT}) STORED",
    f"ALTER TABLE tickets_comment ADD COLUMN search_document tsvector"
    f" GENERATED ALWAYS AS ({COMMENT_DOCUMENT}) STORED",
    "CREATE INDEX ticket_document_gin ON tickets_ticket USING gin (search_document)",
    "CREATE INDEX comment_document_gin ON tickets_comment USING gin (search_document)",
]
BACKWARDS = [
    "ALTER TABLE tickets_ticket DROP COLUMN search_document",
    "ALTER TABLE tickets_comment DROP COLUMN search_document",
    "CREATE INDEX ticket_search_gin ON tickets_ticket USING gin (to_tsvector('simple'::regconfig,"
    " COALESCE(title, '') || ' ' || COALESCE(description, '')))",
    "CREATE INDEX comment_search_gin ON tickets_comment USING gin"
    " (to_tsvector('simple'::regconfig, COALESCE(body, '')))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0015_event_kind_reminded")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False)]
