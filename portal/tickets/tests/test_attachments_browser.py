"""In Chromium: a requester raises a ticket with two files (sent by the upload script, with
progress), the page shows them, and a download gives back the same bytes; a refused file
is named and the chosen files stay chosen for the confirmation."""

import re

import pytest
from playwright.sync_api import expect

from portal.attachments.tests.files import EXE, pdf, png
from portal.tickets.models import Attachment, Ticket
from portal.tickets.tests import attachment_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

files_storage = attachment_fixtures.files_storage  # the fixture, for this module


def _fill_new_ticket(page, title: str) -> None:
    page.goto("/tickets/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Business unit group").select_option(label="Group X")
    page.get_by_label("Category", exact=True).select_option(label="Hardware")
    page.get_by_label("Subcategory").select_option(label="Laptop")
    page.get_by_label("Description").fill("Photos and the invoice attached.")


def test_two_files_are_attached_in_chromium_and_one_downloads_byte_for_byte(
    page_for, personas, org, files_storage
):
    page = page_for(personas.requester)
    # Script errors and CSP refusals (the favicon's 404 is neither).
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    _fill_new_ticket(page, "Screen flickers")
    page.locator("input[type=file][name=files]").set_input_files(
        [
            {"name": "screen.png", "mimeType": "image/png", "buffer": png()},
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": pdf()},
        ]
    )
    # The script lists what was chosen before anything is sent.
    expect(page.locator("[data-picked-files] li")).to_have_count(2)
    page.get_by_role("button", name="Raise ticket").click()
    page.wait_for_url(re.compile(r"/tickets/TKT-\d{6}$"))
    # The success message survived (the script does not let XMLHttpRequest use it up).
    expect(page.get_by_text("2 files attached.")).to_be_visible()
    ticket = Ticket.objects.get(title="Screen flickers")
    assert sorted(a.original_name for a in ticket.attachments.all()) == [
        "invoice.pdf",
        "screen.png",
    ]
    thumbnail = page.locator(".attachment-thumb img")
    expect(thumbnail).to_have_count(1)
    # The thumbnail was fetched and decoded as an image under the page's strict CSP.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1", arg=thumbnail.element_handle()
    )

    with page.expect_download() as download_info:
        page.get_by_role("link", name="invoice.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "invoice.pdf"
    with open(download.path(), "rb") as fetched:
        assert fetched.read() == pdf()
    assert problems == []


def test_a_refused_file_is_named_and_the_others_go_after_confirming(
    page_for, personas, org, files_storage
):
    page = page_for(personas.requester)
    _fill_new_ticket(page, "Scanner")
    page.locator("input[type=file][name=files]").set_input_files(
        [
            {"name": "scan.png", "mimeType": "image/png", "buffer": png()},
            {"name": "driver.pdf", "mimeType": "application/pdf", "buffer": EXE},
        ]
    )
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_text("driver.pdf: The file is a program or script")).to_be_visible()
    assert not Ticket.objects.exists()
    # The returned form replaced the old one but kept the chosen files and the text.
    assert page.locator("input[type=file][name=files]").evaluate("i => i.files.length") == 2
    expect(page.get_by_label("Title", exact=True)).to_have_value("Scanner")
    page.get_by_label(re.compile("leave the refused ones out")).check()
    page.get_by_role("button", name="Raise ticket").click()
    page.wait_for_url(re.compile(r"/tickets/TKT-\d{6}$"))
    expect(page.get_by_text("Not attached: driver.pdf")).to_be_visible()
    assert [a.original_name for a in Attachment.objects.all()] == ["scan.png"]


def test_an_over_size_request_shows_the_limit_and_keeps_the_form(
    page_for, personas, org, files_storage, settings
):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    page = page_for(personas.requester)
    _fill_new_ticket(page, "Huge scan")
    page.locator("input[type=file][name=files]").set_input_files(
        [{"name": "scan.txt", "mimeType": "text/plain", "buffer": b"x" * 100_000}]
    )
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.locator("[data-upload-status]")).to_contain_text("The request is too large")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Huge scan")
    assert not Ticket.objects.exists()
