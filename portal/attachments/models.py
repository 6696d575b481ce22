"""The ledger of objects stored but not yet committed (see cleanup.StoredFiles).

A row is written, in autocommit, *before* its object is stored, and deleted in the same
transaction that commits the rows referring to the object (or after a failed upload's
object is deleted). So every object whose upload did not complete has a row here, and the
orphan sweep reads these rows (one indexed query) instead of listing the whole bucket.
"""

from django.db import models


class PendingObject(models.Model):
    """An object key being (or left) stored whose owner row is not committed."""

    key = models.CharField(max_length=400, unique=True)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key
