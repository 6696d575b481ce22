from django.apps import AppConfig


class LinksConfig(AppConfig):
    """Links between tickets: relates to, duplicate of, blocks."""

    name = "portal.links"
    label = "links"
