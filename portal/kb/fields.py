"""A stored text-search vector that needs neither django.contrib.postgres in INSTALLED_APPS
(whose start-up registers hstore type handlers with an extra query per new connection)
nor PostgreSQL: SQLite stores nothing in it (the column is text and stays NULL)."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class StoredSearchVector(SearchVectorField):
    """`tsvector` on PostgreSQL (with the `@@` lookup of SearchVectorField), text elsewhere."""

    def check(self, **kwargs):
        return models.Field.check(self, **kwargs)  # skip the contrib.postgres app check

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"
