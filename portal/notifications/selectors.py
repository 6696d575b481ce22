"""Reads of notifications shared by views and templates."""

from portal.notifications.models import Notification


def unread_count(user) -> int:
    """One query, served by the partial index on unread notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
