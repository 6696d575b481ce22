"""The database router installed when DATABASE_REPLICA_URL is set (docs/scaling.md).

Writes, and every read outside `replica_reads()`, use the primary ("default"). Inside it,
reads go to the replica unless
- the model is one whose rows must be exact the moment they change (sessions, sign-in
  throttles, API rate windows, task rows, periodic job claims): `PRIMARY_ONLY_APPS`;
- the read is inside a transaction on the primary (it must see that transaction's writes);
- the replica is down, not streaming, or behind by more than REPLICA_MAX_LAG_SECONDS.
"""

from portal.lib.replica import PRIMARY, read_alias

PRIMARY_ONLY_APPS = frozenset(
    {"sessions", "django_tasks_db", "core", "otp_totp", "otp_static", "api", "admin"}
)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases hold the same data: a row read from the replica may point to one
        # from the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY
