"""Which stored keys ticket attachments still refer to, for the orphan sweep.

The generic `cleanup_orphan_attachments` command (and the hourly task in tasks.py) lists
old objects under `tickets/` and asks this function, a batch of at most 500 keys at a
time, which of them a row refers to: one query per batch on the unique `storage_key`
index, instead of loading every key of millions of attachments. Named in settings:

    ATTACHMENT_KEY_OWNERS = {"tickets/": "portal.tickets.attachment_keys.known_storage_keys"}
"""

from collections.abc import Collection

from portal.tickets import access
from portal.tickets.models import Attachment

PREFIX = "tickets/"


def known_storage_keys(batch: list[str]) -> Collection[str]:
    """The keys in `batch` that an Attachment row refers to."""
    return set(
        access.system_read(Attachment)
        .filter(storage_key__in=batch)
        .values_list("storage_key", flat=True)
    )
