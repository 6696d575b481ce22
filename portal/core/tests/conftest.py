from portal.testing.database import database_unreachable, postgres_cluster  # noqa: F401
