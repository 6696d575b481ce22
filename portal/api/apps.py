from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API under /api/v1/ and the personal access tokens that open it."""

    name = "portal.api"
    label = "api"
