"""Fixtures and helpers for the attachment tests (imported by the test_attachments* modules).

`files_storage` points `STORAGES["attachments"]` at a temporary folder (the embedded
set-up); `new_ticket_data(org)` is a complete new-ticket form; `upload(name, data)` is one
file as a browser would send it.
"""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.attachments.storage import local_storage_config
from portal.attachments.tests.files import pdf, png


@pytest.fixture
def files_storage(tmp_path, settings):
    from django.core.files.storage import storages

    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(tmp_path)}
    return storages["attachments"]


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def good_files():
    return [upload("screenshot.png", png()), upload("invoice.pdf", pdf())]


def new_ticket_data(org, **extra) -> dict:
    data = {
        "title": "Printer smokes",
        "description": "Since this morning, see the photos.",
        "group": org.group_x.pk,
        "category": org.hardware.pk,
        "subcategory": org.printer.pk,
        "priority": "",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def stored_keys(storage, prefix: str = "tickets") -> list[str]:
    """Every key stored under `prefix` (local storage), to prove nothing was left behind."""
    from portal.attachments.cleanup import iter_stored

    return sorted(item.key for item in iter_stored(storage, prefix + "/"))


def file_row(ticket, uploader, name: str, comment=None, *, content_type: str = "text/plain"):
    """A file's row only (no bytes stored): what reads of files see, for tests that need
    none of the upload path."""
    from portal.tickets.models import Attachment

    return Attachment.objects.create(
        ticket=ticket,
        comment=comment,
        uploader=uploader,
        original_name=name,
        storage_key=f"tickets/{ticket.pk}/{name}",
        size=10,
        content_type=content_type,
        sha256="0" * 64,
    )
