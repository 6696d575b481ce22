from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Generic delivery: in-app notifications and the email outbox (knows nothing of tickets)."""

    name = "portal.notifications"
    label = "notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from portal.notifications import account_mail, alerts  # noqa: F401  (register kinds)
        from portal.notifications.models import Notification
        from portal.notifications.selectors import forget_unread_counts

        # A notification saved one by one (the admin, a fixture) shows on the next page too.
        post_save.connect(
            lambda sender, instance, **kwargs: forget_unread_counts([instance.recipient_id]),
            sender=Notification,
            weak=False,
            dispatch_uid="notifications-bell-cache",
        )
