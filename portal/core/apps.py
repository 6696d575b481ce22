from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: security middleware, health check, worker heartbeat, demo data."""

    name = "portal.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal.core import checks  # noqa: F401 (registers the checks)
        from portal.lib.db import install_text_search_planning

        connection_created.connect(install_text_search_planning)
