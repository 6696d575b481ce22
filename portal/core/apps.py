from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: security middleware, health check, worker heartbeat, demo data."""

    name = "portal.core"
    label = "core"

    def ready(self) -> None:
        from portal.core import checks  # noqa: F401 (registers the checks)
