from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """Data retention: what the portal deletes after how long, run by the worker."""

    name = "portal.retention"
    label = "retention"
