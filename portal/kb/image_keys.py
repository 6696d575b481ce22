"""Which stored `kb/` keys article images still refer to, for the attachment sweeps
(`ATTACHMENT_KEY_OWNERS` in settings, and the kb tasks): one query per batch of at most
500 keys on the unique `storage_key` index."""

from collections.abc import Collection

from portal.kb.models import ArticleImage


def known_storage_keys(batch: list[str]) -> Collection[str]:
    """The keys in `batch` that an ArticleImage row refers to."""
    return set(
        ArticleImage.objects.filter(storage_key__in=batch).values_list("storage_key", flat=True)
    )
