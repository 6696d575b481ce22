import datetime as dt
import os

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.attachments.cleanup import delete_orphans, iter_stored, stale_keys
from portal.attachments.storage import save_file

HOUR = dt.timedelta(hours=1)
LATER = dt.datetime.now(dt.UTC) + 2 * HOUR  # "two hours from now": everything is old


@pytest.fixture(params=["local", "s3"])
def any_storage(request):
    return request.getfixturevalue("local_storage" if request.param == "local" else "s3_storage")


def store(storage, *keys: str) -> list[str]:
    return [save_file(storage, key, ContentFile(b"x")) for key in keys]


def test_listing_is_limited_to_the_prefix(any_storage):
    store(any_storage, "tickets/1/a.txt", "tickets/2/b.txt", "other/c.txt")
    keys = sorted(obj.key for obj in iter_stored(any_storage, "tickets/"))
    assert keys == ["tickets/1/a.txt", "tickets/2/b.txt"]
    assert all(obj.modified.tzinfo is not None for obj in iter_stored(any_storage, "tickets/"))


def test_listing_an_empty_prefix_finds_nothing(any_storage):
    assert list(iter_stored(any_storage, "tickets/")) == []


def test_only_objects_older_than_the_age_are_stale(any_storage):
    store(any_storage, "tickets/1/a.txt")
    assert list(stale_keys(any_storage, "tickets/")) == []  # just written
    assert list(stale_keys(any_storage, "tickets/", now=LATER)) == ["tickets/1/a.txt"]
    assert list(stale_keys(any_storage, "tickets/", now=LATER, older_than=3 * HOUR)) == []


def test_unknown_old_objects_are_deleted_and_known_ones_kept(any_storage):
    keep, orphan_a, orphan_b = store(
        any_storage, "tickets/1/keep.txt", "tickets/1/orphan.txt", "tickets/2/orphan.txt"
    )
    report = delete_orphans(any_storage, "tickets/", known={keep}, now=LATER)
    assert sorted(report.deleted) == sorted([orphan_a, orphan_b])
    assert report.examined == 3 and report.failed == []
    assert any_storage.exists(keep)
    assert not any_storage.exists(orphan_a) and not any_storage.exists(orphan_b)


def test_young_objects_are_never_deleted_even_if_unknown(any_storage):
    (key,) = store(any_storage, "tickets/1/in-flight.txt")
    report = delete_orphans(any_storage, "tickets/", known=set())
    assert report.deleted == []
    assert any_storage.exists(key)


def test_dry_run_reports_without_deleting(any_storage):
    (key,) = store(any_storage, "tickets/1/orphan.txt")
    report = delete_orphans(any_storage, "tickets/", known=set(), now=LATER, dry_run=True)
    assert report.deleted == [key]
    assert any_storage.exists(key)


def test_known_keys_can_be_asked_for_in_batches(any_storage):
    keys = store(any_storage, *(f"tickets/1/{n}.txt" for n in range(5)))
    asked = []

    def known(batch: list[str]) -> set[str]:
        asked.append(list(batch))
        return {key for key in batch if key.endswith(("0.txt", "1.txt"))}

    report = delete_orphans(any_storage, "tickets/", known=known, now=LATER)
    assert sorted(sum(asked, [])) == sorted(keys)
    assert sorted(report.deleted) == sorted(keys[2:])


def test_a_failed_delete_is_reported_and_the_sweep_goes_on(s3_storage, s3_server):
    store(s3_storage, "tickets/1/a.txt", "tickets/1/b.txt")

    def known_then_outage(batch: list[str]) -> set[str]:
        s3_server.stop()  # the listing is done; every delete after this fails
        return set()

    report = delete_orphans(s3_storage, "tickets/", known=known_then_outage, now=LATER)
    assert sorted(report.failed) == ["tickets/1/a.txt", "tickets/1/b.txt"]
    assert report.deleted == []


# --- The management command -------------------------------------------------------------

KNOWN_TO_TEST_OWNER: set[str] = set()


def known_storage_keys(batch: list[str]) -> set[str]:
    """A stand-in for the tickets app's lookup (referenced by dotted path below)."""
    return KNOWN_TO_TEST_OWNER & set(batch)


def age(storage, key: str, hours: float) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).timestamp()
    os.utime(storage.path(key), (past, past))


@pytest.fixture
def owned(settings, local_storage):
    settings.ATTACHMENT_KEY_OWNERS = {
        "tickets/": "portal.attachments.tests.test_cleanup.known_storage_keys"
    }
    keep, orphan, young = store(
        local_storage, "tickets/1/keep.txt", "tickets/1/orphan.txt", "tickets/1/young.txt"
    )
    age(local_storage, keep, 3)
    age(local_storage, orphan, 3)
    KNOWN_TO_TEST_OWNER.clear()
    KNOWN_TO_TEST_OWNER.add(keep)
    yield local_storage, keep, orphan, young
    KNOWN_TO_TEST_OWNER.clear()


def test_command_deletes_old_orphans_only(owned, capsys):
    storage, keep, orphan, young = owned
    call_command("cleanup_orphan_attachments")
    out = capsys.readouterr().out
    assert f"deleted {orphan}" in out
    assert not storage.exists(orphan)
    assert storage.exists(keep) and storage.exists(young)


def test_command_dry_run_deletes_nothing(owned, capsys):
    storage, _keep, orphan, _young = owned
    call_command("cleanup_orphan_attachments", "--dry-run")
    assert f"would delete {orphan}" in capsys.readouterr().out
    assert storage.exists(orphan)


def test_command_refuses_without_an_owner_to_ask(settings, local_storage):
    (key,) = store(local_storage, "tickets/1/a.txt")
    age(local_storage, key, 3)
    settings.ATTACHMENT_KEY_OWNERS = {}
    with pytest.raises(CommandError, match="ATTACHMENT_KEY_OWNERS"):
        call_command("cleanup_orphan_attachments")
    assert local_storage.exists(key)


def test_command_refuses_an_age_that_could_catch_uploads_in_flight(owned):
    with pytest.raises(CommandError, match="at least"):
        call_command("cleanup_orphan_attachments", "--older-than-minutes", "1")
