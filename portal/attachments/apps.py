from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    """Generic file handling: content-checked uploads, storage wiring, safe downloads.

    Knows nothing about tickets: the tickets app owns its Attachment rows and calls this.
    """

    name = "portal.attachments"
    label = "attachments"
