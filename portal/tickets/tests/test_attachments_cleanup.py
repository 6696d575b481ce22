"""The orphan sweep asks the tickets app which stored keys its rows still refer to."""

import datetime as dt
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from portal.attachments.models import PendingObject
from portal.attachments.tests.files import pdf
from portal.tickets import attachment_services
from portal.tickets.attachment_keys import known_storage_keys
from portal.tickets.tasks import (
    cleanup_orphan_attachments_task,
    sweep_unrecorded_attachments_task,
)
from portal.tickets.tests import attachment_fixtures
from portal.tickets.tests.attachment_fixtures import stored_keys, upload

pytestmark = pytest.mark.django_db

files_storage = attachment_fixtures.files_storage  # the fixture, for this module


@pytest.fixture
def kept_and_orphan(personas, ticket, files_storage):
    """One attached file and one object no row refers to, both two hours old."""
    outcome = attachment_services.attachment_add(
        actor=personas.requester, ticket=ticket, files=[upload("kept.pdf", pdf())]
    )
    kept = outcome.attachments[0].storage_key
    orphan = files_storage.save(
        f"tickets/{ticket.pk}/20260101T000000Z-x-orphan.pdf", ContentFile(b"%PDF-")
    )
    old = time.time() - dt.timedelta(hours=2).total_seconds()
    for key in (kept, orphan):
        os.utime(files_storage.path(key), (old, old))
    return kept, orphan


def test_known_storage_keys_answers_only_for_keys_with_a_row(kept_and_orphan):
    kept, orphan = kept_and_orphan
    assert known_storage_keys([kept, orphan, "tickets/9/nothing"]) == {kept}


def test_the_daily_backstop_removes_only_the_orphan(kept_and_orphan, files_storage):
    kept, orphan = kept_and_orphan
    result = sweep_unrecorded_attachments_task.call()
    assert result == {"examined": 2, "deleted": 1, "failed": 0}
    assert stored_keys(files_storage) == [kept]


def test_the_frequent_task_removes_what_an_unfinished_upload_left_on_the_ledger(
    kept_and_orphan, files_storage
):
    kept, orphan = kept_and_orphan
    old = timezone.now() - dt.timedelta(minutes=16)  # past the default sweep age of 15
    PendingObject.objects.create(key=orphan, created_at=old)
    result = cleanup_orphan_attachments_task.call()
    assert result == {"examined": 1, "deleted": 1, "failed": 0}
    assert stored_keys(files_storage) == [kept] and not PendingObject.objects.exists()


def test_young_objects_are_left_alone(personas, ticket, files_storage):
    young = files_storage.save(f"tickets/{ticket.pk}/new.pdf", ContentFile(b"%PDF-"))
    assert cleanup_orphan_attachments_task.call()["deleted"] == 0
    assert files_storage.exists(young)


def test_the_generic_command_uses_the_tickets_owner(kept_and_orphan, files_storage, settings):
    settings.ATTACHMENT_KEY_OWNERS = {
        "tickets/": "portal.tickets.attachment_keys.known_storage_keys"
    }
    kept, orphan = kept_and_orphan
    call_command("cleanup_orphan_attachments", "--dry-run")
    assert files_storage.exists(orphan)
    call_command("cleanup_orphan_attachments")
    assert stored_keys(files_storage) == [kept]
