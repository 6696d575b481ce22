from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Generic delivery: in-app notifications and the email outbox (knows nothing of tickets)."""

    name = "portal.notifications"
    label = "notifications"

    def ready(self) -> None:
        from portal.notifications import account_mail, alerts  # noqa: F401  (register kinds)
