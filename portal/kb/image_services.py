"""Images in articles: a checked upload, stored first, then its row in one short transaction.

The file goes through the same content checks as ticket attachments
(`portal.attachments.validation.validate_upload`: name, size, bytes that match the
extension) and must then be a raster image (PNG, JPEG, GIF, WebP; SVG is refused by the
attachment rules, as it can carry script). It is stored under `kb/<article id>/` before
any transaction opens (`store_then_commit`); the row and the article's history event are
written together afterwards. A refusal is a `PermissionDenied` or a `ValidationError` on
`image`, and leaves nothing stored or written.

Removing one deletes its row (and writes the history event) in one transaction that also
puts its file on the pending-object ledger; the kb image sweep, enqueued once that commits,
deletes the file from storage (`delete_later`, as ticket files and erasure do: no storage
call while the transaction is open). Bodies that still show it render "Image not
available" instead (`kb.rendering`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portal.attachments.bounded import upload_deadline
from portal.attachments.cleanup import delete_later, store_then_commit
from portal.attachments.names import storage_key
from portal.attachments.sniff import INLINE_SAFE_TYPES
from portal.attachments.storage import get_storage
from portal.attachments.validation import UploadRefused, validate_upload
from portal.kb import access
from portal.kb.models import Article, ArticleEvent, ArticleImage
from portal.lib.http import NotVisible

PREFIX = "kb/"
# The raster types browsers show inline without running anything (attachments' list).
IMAGE_TYPES = frozenset(INLINE_SAFE_TYPES)
ALT_MAX = 120


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"image": ValidationError(message, code=code)})


def article_image_add(*, actor, article: Article, upload) -> ArticleImage:
    """Store `upload` (a Django UploadedFile) as an image of `article`: owner team and
    admins only. StorageUnavailable when the storage is down (nothing is written)."""
    if not access.can_edit(actor, article):
        raise PermissionDenied("Only the owner team and admins add images to this article.")
    if upload is None:
        raise _refuse("Choose an image to upload.", "required")
    try:
        checked = validate_upload(upload.name, upload)
    except UploadRefused as refused:
        raise _refuse(refused.message, refused.code) from refused
    with checked:
        if checked.content_type not in IMAGE_TYPES:
            raise _refuse("Only PNG, JPEG, GIF and WebP images go into articles.", "not_an_image")
        with store_then_commit(get_storage(), deadline=upload_deadline()) as files:
            key = files.save(
                storage_key(["kb", str(article.pk)], checked.safe_name),
                checked.file,
                content_type=checked.file.content_type,
            )
            with files.committing():
                image = ArticleImage.objects.create(
                    article=article,
                    storage_key=key,
                    original_name=checked.original_name,
                    content_type=checked.content_type,
                    size=checked.size,
                    sha256=checked.sha256,
                    uploaded_by=actor,
                )
                ArticleEvent.objects.create(
                    article=article, actor=actor, kind=ArticleEvent.Kind.UPDATED, fields="images"
                )
    return image


def article_image_remove(*, actor, image: ArticleImage) -> None:
    """Remove `image` from its article: owner team and admins only (PermissionDenied
    otherwise; NotVisible when someone removed it meanwhile). Its file leaves storage
    after the commit, through the sweep of the pending ledger."""
    article = image.article
    if not access.can_edit(actor, article):
        raise PermissionDenied("Only the owner team and admins remove images from this article.")
    with transaction.atomic():
        deleted, _by_model = ArticleImage.objects.filter(pk=image.pk).delete()
        if not deleted:
            raise NotVisible("This image has already been removed.")
        delete_later([image.storage_key])
        ArticleEvent.objects.create(
            article=article, actor=actor, kind=ArticleEvent.Kind.UPDATED, fields="images"
        )
        transaction.on_commit(_sweep_removed_files)


def _sweep_removed_files() -> None:
    from portal.kb.tasks import cleanup_pending_images  # the tasks import this module
    from portal.lib.tasks import enqueue_with_data

    # After the commit (with a queue outside the database too), so the sweep sees the row
    # gone and deletes the file now rather than at its next periodic run.
    enqueue_with_data(cleanup_pending_images)


def image_markdown(image: ArticleImage) -> str:
    """What the edit page inserts into the body: `![name](/help/images/<id>)`."""
    stem = image.original_name.rsplit(".", 1)[0]
    alt = "".join(ch for ch in stem if ch not in "[]\\")[:ALT_MAX].strip() or "image"
    return f"![{alt}]({image.get_absolute_url()})"
