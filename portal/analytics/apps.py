from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The dashboard, the analytics page and privacy-respecting page-view counts."""

    name = "portal.analytics"
    label = "analytics"
