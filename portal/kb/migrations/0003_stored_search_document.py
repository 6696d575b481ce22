"""Store each article's text vector (title A, body B) instead of indexing the expression.

Ranking the matches (`ts_rank`) recomputed the vector of every matching body: 110 ms for a
five-word title at 10,000 articles (bench/kb_suggestions.py). The stored column is written
by the services and GIN-indexed; the expression index of 0002 goes. PostgreSQL only: on
SQLite the column is plain text and stays NULL.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

import portal.kb.fields
from portal.kb.search import article_vector

OLD_INDEX = "kb_article_search_gin"
INDEX = GinIndex(fields=["search_document"], name="kb_article_document_gin")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    article = apps.get_model("kb", "article")
    schema_editor.remove_index(article, GinIndex(article_vector(), name=OLD_INDEX))
    article.objects.update(search_document=article_vector())
    schema_editor.add_index(article, INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    article = apps.get_model("kb", "article")
    schema_editor.remove_index(article, INDEX)
    schema_editor.add_index(article, GinIndex(article_vector(), name=OLD_INDEX))


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_search_index_postgresql")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="search_document",
            field=portal.kb.fields.StoredSearchVector(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
