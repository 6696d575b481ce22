"""The GIN index for article search and suggestions, on PostgreSQL only.

It indexes exactly the expression `portal/kb/search.py` queries (`article_vector()`), so
the planner matches it. SQLite has no GIN and searches by substring, so this migration
does nothing there (as tickets' 0002).
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from portal.kb.search import article_vector

INDEX_NAME = "kb_article_search_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(
            apps.get_model("kb", "article"), GinIndex(article_vector(), name=INDEX_NAME)
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(
            apps.get_model("kb", "article"), GinIndex(article_vector(), name=INDEX_NAME)
        )


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_article_event_deflection")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
