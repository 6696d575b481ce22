from django.apps import AppConfig


class RepliesConfig(AppConfig):
    """Canned replies: personal and team answers an agent inserts into a comment."""

    name = "portal.replies"
    label = "replies"
