"""GIN indexes for full-text search, on PostgreSQL only.

They indexed exactly the expressions `portal/tickets/search.py` queried then (the
SearchVector definitions below, so the planner matched them); migration 0016 replaced them
with stored vector columns. SQLite has no GIN and searches with
substring matching instead, so this migration does nothing there. The indexes are not in
the models' Meta because Meta indexes are created on every database.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations


def ticket_vector() -> SearchVector:
    return SearchVector("title", "description", config="simple")


def comment_vector() -> SearchVector:
    return SearchVector("body", config="simple")


def _indexes():
    return [
        ("ticket", GinIndex(ticket_vector(), name="ticket_search_gin")),
        ("comment", GinIndex(comment_vector(), name="comment_search_gin")),
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.add_index(apps.get_model("tickets", model_name), index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.remove_index(apps.get_model("tickets", model_name), index)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_ticket_comment_event")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
