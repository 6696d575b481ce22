"""Periodic work of the knowledge base: sweeping image files whose rows never committed."""

from django.tasks import task

from portal.attachments.cleanup import CleanupReport, delete_orphans, delete_pending
from portal.attachments.storage import get_storage
from portal.kb.image_keys import known_storage_keys
from portal.kb.image_services import PREFIX


def _counts(report: CleanupReport) -> dict[str, int]:
    return {
        "examined": report.examined,
        "deleted": len(report.deleted),
        "failed": len(report.failed),
    }


@task()
def cleanup_pending_images() -> dict[str, int]:
    """Delete image files of uploads that never completed (the ledger of pending objects,
    older than ATTACHMENT_ORPHAN_MINUTES). PERIODIC_TASKS: every 5 minutes."""
    return _counts(delete_pending(get_storage(), PREFIX, known=known_storage_keys))


@task()
def sweep_unrecorded_images() -> dict[str, int]:
    """The backstop: list `kb/` and delete old files no ArticleImage row refers to
    (an article deleted with its images, say). PERIODIC_TASKS: daily."""
    return _counts(delete_orphans(get_storage(), PREFIX, known=known_storage_keys))
