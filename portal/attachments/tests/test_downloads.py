import re
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.attachments.downloads import content_disposition, download_response
from portal.attachments.names import sanitize_filename
from portal.attachments.storage import save_file
from portal.attachments.tests import files


def body(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)


def test_local_download_streams_the_stored_bytes_with_safe_headers(local_storage):
    data = files.pdf()
    key = save_file(local_storage, "tickets/1/a.pdf", ContentFile(data))
    response = download_response(
        local_storage, key, original_name="Report.pdf", content_type="application/pdf"
    )
    assert isinstance(response, FileResponse)
    assert body(response) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"] == 'attachment; filename="Report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("content_type", "inline_ok", "disposition"),
    [
        ("image/png", True, "inline"),
        ("image/jpeg", True, "inline"),
        ("image/webp", True, "inline"),
        ("image/gif", True, "inline"),
        ("image/png", False, "attachment"),
        ("application/pdf", True, "attachment"),
        ("text/plain; charset=utf-8", True, "attachment"),
        ("image/svg+xml", True, "attachment"),
        ("text/html", True, "attachment"),
    ],
)
def test_only_raster_images_may_be_inline(local_storage, content_type, inline_ok, disposition):
    key = save_file(local_storage, "tickets/1/x", ContentFile(b"x"))
    response = download_response(
        local_storage, key, original_name="x", content_type=content_type, inline_ok=inline_ok
    )
    assert response["Content-Disposition"].split(";")[0] == disposition


def test_a_missing_local_file_is_a_404(local_storage):
    with pytest.raises(Http404):
        download_response(
            local_storage, "tickets/1/gone.pdf", original_name="a.pdf", content_type="text/plain"
        )


def test_non_ascii_names_get_rfc_5987_and_an_ascii_fallback():
    header = content_disposition("Résumé 2026 – Müller.pdf")
    assert header.startswith('attachment; filename="Resume 2026 _ Muller.pdf"; ')
    encoded = re.search(r"filename\*=UTF-8''(\S+)$", header).group(1)
    assert unquote(encoded) == "Résumé 2026 – Müller.pdf"
    assert header.isascii()


def test_a_name_with_nothing_ascii_falls_back_to_download_with_its_extension():
    header = content_disposition("報告書.xlsx")
    assert 'filename="download.xlsx"' in header
    assert "filename*=UTF-8''%E5%A0%B1" in header


@pytest.mark.parametrize(
    "name",
    [
        "evil\r\nSet-Cookie: session=stolen.pdf",
        'a"; filename="evil.exe.pdf',
        "a\\\"; filename*=UTF-8''evil.exe",
        "x;inline;.pdf",
        "bad\x00\x0bname%0d%0a.pdf",
        "\u202egpj.exe",
    ],
)
def test_no_name_can_inject_a_header_or_a_parameter(name):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    assert header.isascii()
    # Exactly one quoted fallback and at most one extended parameter.
    match = re.fullmatch(
        r'attachment; filename="([^"\\]*)"(?:; filename\*=UTF-8\'\'([A-Za-z0-9%._~-]+))?',
        header,
    )
    assert match, header


def test_header_injection_through_a_download_name_is_impossible(local_storage):
    key = save_file(local_storage, "tickets/1/a.txt", ContentFile(b"x"))
    response = download_response(
        local_storage,
        key,
        original_name="a\r\nSet-Cookie: x=y\r\n.txt",
        content_type="text/plain",
    )
    assert "Set-Cookie" not in response.cookies and not response.has_header("Set-Cookie")
    assert "\n" not in response["Content-Disposition"]


def test_local_storage_offers_no_public_url(local_storage):
    with pytest.raises(NotImplementedError):
        local_storage.url("tickets/1/a.pdf")


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_name_gives_one_well_formed_ascii_header(name):
    header = content_disposition(name, inline=False)
    assert header.isascii()
    match = re.fullmatch(
        r'attachment; filename="([^"\\\x00-\x1f\x7f]*)"'
        r"(?:; filename\*=UTF-8''([A-Za-z0-9%._~-]+))?",
        header,
    )
    assert match, header
    if match.group(2):
        # The extended form carries the sanitised name exactly.
        assert unquote(match.group(2)) == sanitize_filename(name)
    else:
        assert match.group(1) == sanitize_filename(name)
