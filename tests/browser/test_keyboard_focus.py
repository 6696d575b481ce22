"""Where the keyboard focus goes when a script replaces what had it (issue 10). The
journeys (tests/journeys/test_keyboard.py) cover the htmx swaps; this covers the upload
script's refusal, which puts the returned form in place of the one that was sent."""

import pytest
from playwright.sync_api import expect

from portal.attachments.tests.files import EXE
from portal.tickets.models import Ticket
from portal.tickets.tests import attachment_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

files_storage = attachment_fixtures.files_storage  # the fixture, for this module


def test_a_refused_upload_puts_the_focus_on_the_field_in_error(
    page_for, personas, org, files_storage
):
    page = page_for(personas.requester)
    page.goto("/tickets/new")
    page.get_by_label("Title", exact=True).fill("Scanner driver")
    page.get_by_label("Business unit group").select_option(label="Group X")
    page.get_by_label("Category", exact=True).select_option(label="Hardware")
    page.get_by_label("Description").fill("The driver is attached.")
    page.get_by_label("Files").set_input_files(
        [{"name": "driver.pdf", "mimeType": "application/pdf", "buffer": EXE}]
    )
    page.get_by_role("button", name="Raise ticket").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("driver.pdf: The file is a program or script")).to_be_visible()
    assert not Ticket.objects.exists()
    # Not <body>: the field the message is about, which says it is invalid.
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("aria-invalid", "true")
    expect(focused).to_have_attribute("name", "files")
