"""Store first, then commit the rows in one short transaction; a failure leaves no object.

These run with real transactions (`transactional_db`): the helper opens the outermost
transaction itself, storing inside one is refused, and a failure at COMMIT must be seen,
which a test wrapped in an outer transaction could never show.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.attachments import cleanup
from portal.attachments.cleanup import delete_pending, store_then_commit
from portal.attachments.downloads import download_response
from portal.attachments.models import PendingObject
from portal.attachments.storage import StorageUnavailable, delete_file, save_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["local", "s3"])
def any_storage(request):
    """Each test runs against local files and against the loopback S3 server."""
    return request.getfixturevalue("local_storage" if request.param == "local" else "s3_storage")


def test_committed_work_keeps_its_objects(any_storage):
    with store_then_commit(any_storage) as stored:
        key = stored.save("tickets/1/a.txt", ContentFile(b"kept"))
        with stored.committing():
            Group.objects.create(name="with attachment")
    assert any_storage.exists(key)
    assert Group.objects.filter(name="with attachment").exists()
    assert not PendingObject.objects.exists()  # off the ledger with its rows


def test_an_error_after_the_commit_keeps_the_committed_objects(any_storage):
    with pytest.raises(ValueError, match="after"):
        with store_then_commit(any_storage) as stored:
            key = stored.save("tickets/1/a.txt", ContentFile(b"kept"))
            with stored.committing():
                Group.objects.create(name="with attachment")
            raise ValueError("after the commit")
    assert any_storage.exists(key)  # its row is committed: deleting it would break it


def test_an_error_inside_the_transaction_removes_the_objects_and_the_rows(any_storage):
    with pytest.raises(IntegrityError):
        with store_then_commit(any_storage) as stored:
            first = stored.save("tickets/1/a.txt", ContentFile(b"one"))
            second = stored.save("tickets/1/b.txt", ContentFile(b"two"))
            with stored.committing():
                Group.objects.create(name="duplicate")
                Group.objects.create(name="duplicate")  # the database refuses: unique name
    assert not any_storage.exists(first)
    assert not any_storage.exists(second)
    assert not Group.objects.filter(name="duplicate").exists()
    assert not PendingObject.objects.exists()  # deleted, so nothing left to sweep


def test_a_failure_at_commit_removes_the_objects(any_storage):
    # Foreign keys are checked at COMMIT (deferred on PostgreSQL and SQLite alike): the
    # row is accepted inside the block and the database refuses the transaction later.
    with pytest.raises(IntegrityError):
        with store_then_commit(any_storage) as stored:
            key = stored.save("tickets/1/a.txt", ContentFile(b"orphan to be"))
            with stored.committing():
                Permission.objects.create(name="x", codename="x", content_type_id=987654)
    assert not any_storage.exists(key)


def test_a_storage_failure_before_the_transaction_writes_no_rows(s3_storage, s3_server):
    with pytest.raises(StorageUnavailable):
        with store_then_commit(s3_storage) as stored:
            s3_server.stop()
            stored.save("tickets/1/a.txt", ContentFile(b"never stored"))
            with stored.committing():
                Group.objects.create(name="ticket without its file")
    assert not Group.objects.filter(name="ticket without its file").exists()


@pytest.mark.parametrize("storage_fixture", ["local_storage", "s3_storage"])
def test_storing_inside_a_transaction_is_refused(request, storage_fixture):
    # A hung storage would hold the transaction's locks: the rule is checked, not hoped for.
    storage = request.getfixturevalue(storage_fixture)
    with pytest.raises(RuntimeError, match="inside a database transaction"):
        with transaction.atomic():
            save_file(storage, "tickets/1/a.txt", ContentFile(b"x"))
    assert not storage.exists("tickets/1/a.txt")


def test_the_rows_transaction_refuses_to_run_inside_an_outer_one(local_storage):
    # An outer rollback after the block ended could not be seen: refuse up front.
    with pytest.raises(RuntimeError, match="durable"):
        with store_then_commit(local_storage) as stored:
            key = stored.save("tickets/1/a.txt", ContentFile(b"x"))
            with transaction.atomic(), stored.committing():
                pass
    assert not local_storage.exists(key)


def test_rows_for_objects_stored_too_long_ago_are_refused(local_storage, monkeypatch):
    # The sweep spares objects younger than its age; rows must not come later than that.
    monkeypatch.setattr(cleanup, "COMMIT_WINDOW_SECONDS", -1)
    with pytest.raises(cleanup.StoredTooLongAgo):
        with store_then_commit(local_storage) as stored:
            key = stored.save("tickets/1/a.txt", ContentFile(b"x"))
            with stored.committing():
                Group.objects.create(name="late")
    assert not Group.objects.filter(name="late").exists()
    assert not local_storage.exists(key)


def test_a_failed_delete_after_rollback_does_not_hide_the_original_error(
    s3_storage, s3_server, caplog
):
    with pytest.raises(IntegrityError):
        with store_then_commit(s3_storage) as stored:
            stored.save("tickets/1/a.txt", ContentFile(b"x"))
            s3_server.stop()  # the delete will fail; the orphan sweep removes it later
            with stored.committing():
                Group.objects.create(name="dup")
                Group.objects.create(name="dup")
    assert "could not delete stored attachment" in caplog.text


def test_what_could_not_be_deleted_stays_on_the_ledger_until_the_sweep(s3_storage, s3_server):
    with pytest.raises(IntegrityError):
        with store_then_commit(s3_storage) as stored:
            key = stored.save("tickets/1/a.txt", ContentFile(b"x"))
            s3_server.stop()  # the delete fails
            with stored.committing():
                Group.objects.create(name="dup")
                Group.objects.create(name="dup")
    assert list(PendingObject.objects.values_list("key", flat=True)) == [key]

    s3_server.start()  # back, same bucket (moto keeps it in memory)
    young = delete_pending(s3_storage, "tickets/", known=set())
    assert young.examined == 0 and s3_storage.exists(key)  # younger than the sweep age
    report = delete_pending(s3_storage, "tickets/", known=set(), older_than=dt.timedelta(0))
    assert report.deleted == [key]
    assert not s3_storage.exists(key) and not PendingObject.objects.exists()


def test_a_key_a_row_refers_to_only_leaves_the_ledger(local_storage):
    key = save_file(local_storage, "tickets/1/a.txt", ContentFile(b"x"))
    PendingObject.objects.create(key=key, created_at=timezone.now())
    report = delete_pending(
        local_storage, "tickets/", known=lambda batch: set(batch), older_than=dt.timedelta(0)
    )
    assert report.deleted == [] and local_storage.exists(key)
    assert not PendingObject.objects.exists()


def test_a_store_that_failed_is_on_the_ledger_in_case_it_landed(s3_storage, s3_server):
    s3_server.stop()
    with pytest.raises(StorageUnavailable):
        with store_then_commit(s3_storage) as stored:
            stored.save("tickets/1/a.txt", ContentFile(b"x"))
    assert list(PendingObject.objects.values_list("key", flat=True)) == ["tickets/1/a.txt"]


def test_no_storage_call_runs_inside_a_transaction(s3_storage):
    # Downloads, deletes and sweeps share the check with uploads (bounded.call).
    key = save_file(s3_storage, "tickets/1/a.txt", ContentFile(b"x"))
    with pytest.raises(RuntimeError, match="inside a database transaction"):
        with transaction.atomic():
            download_response(s3_storage, key, original_name="a.txt", content_type="text/plain")
    with pytest.raises(RuntimeError, match="inside a database transaction"):
        with transaction.atomic():
            delete_file(s3_storage, key)
    assert s3_storage.exists(key)
