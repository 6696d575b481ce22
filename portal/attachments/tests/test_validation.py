import codecs
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.attachments.tests import files
from portal.attachments.validation import (
    ALLOWED_TYPES,
    BLOCKED_EXTENSIONS,
    DEFAULT_MAX_BYTES,
    UploadRefused,
    validate_upload,
)


def refused(name: str, data: bytes, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        validate_upload(name, io.BytesIO(data), **kwargs)
    return caught.value


# --- Accepted files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("screenshot.png", files.png(), "image/png"),
        ("photo.jpg", files.JPEG, "image/jpeg"),
        ("photo.JPEG", files.JPEG, "image/jpeg"),
        ("anim.gif", files.GIF, "image/gif"),
        ("pic.webp", files.webp(), "image/webp"),
        ("Invoice.PDF", files.pdf(), "application/pdf"),
        (
            "letter.docx",
            files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "budget.xlsx",
            files.xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "deck.pptx",
            files.pptx(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("old.doc", files.doc(), "application/msword"),
        ("old.xls", files.xls(), "application/vnd.ms-excel"),
        ("old.ppt", files.ppt(), "application/vnd.ms-powerpoint"),
        ("notes.txt", "Printer jammed — again ✓\n".encode(), "text/plain"),
        ("export.csv", codecs.BOM_UTF8 + b"id,title\n1,Printer\n", "text/csv"),
        ("server.log", "ошибка: диск полон\n".encode("utf-16"), "text/plain"),
        ("report.v2.final.pdf", files.pdf(), "application/pdf"),
    ],
)
def test_real_files_of_each_accepted_type_are_accepted(name, data, content_type):
    with validate_upload(name, io.BytesIO(data)) as upload:
        assert upload.content_type == content_type
        assert upload.size == len(data)
        assert upload.sha256 == hashlib.sha256(data).hexdigest()
        assert upload.file.read() == data
        assert upload.safe_name == name
        assert upload.original_name == name


def test_text_records_its_charset_for_the_stored_object():
    with validate_upload("a.log", io.BytesIO("x\n".encode("utf-16"))) as upload:
        assert upload.charset == "utf-16"
        assert upload.file.content_type == "text/plain; charset=utf-16"
    with validate_upload("a.txt", io.BytesIO(b"x\n")) as upload:
        assert upload.charset == "utf-8"


def test_text_mentioning_html_further_down_is_still_text():
    log = b'127.0.0.1 - "GET /" 500\nresponse body: <html><script>x</script>\n'
    with validate_upload("access.log", io.BytesIO(log)) as upload:
        assert upload.content_type == "text/plain"


def test_django_uploaded_files_are_read_through_chunks():
    uploaded = SimpleUploadedFile("C:\\fakepath\\scan.png", files.png(), "application/x-evil")
    with validate_upload(uploaded.name, uploaded) as upload:
        # The browser's declared type is ignored: the bytes decide.
        assert upload.content_type == "image/png"
        assert upload.safe_name == "scan.png"


def test_names_are_sanitised_and_the_display_name_kept():
    with validate_upload("../../Q3 report\u202e.pdf", io.BytesIO(files.pdf())) as upload:
        assert upload.safe_name == "Q3 report.pdf"
        assert upload.original_name == "../../Q3 report.pdf"


def test_every_allowed_extension_has_a_mime_type_and_none_is_blocked():
    assert not set(ALLOWED_TYPES) & BLOCKED_EXTENSIONS
    assert all("/" in mime for _kind, mime in ALLOWED_TYPES.values())


# --- Refused by name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("setup.exe", "blocked_type"),
        ("invoice.pdf.exe", "blocked_type"),
        ("invoice.pdf.exe.", "blocked_type"),  # Windows drops the trailing dot
        ("invoice\u202efdp.exe", "blocked_type"),  # displays as invoiceexe.pdf
        ("page.html", "blocked_type"),
        ("logo.svg", "blocked_type"),
        ("data.xml", "blocked_type"),
        ("macros.docm", "blocked_type"),
        ("bundle.zip", "blocked_type"),
        ("run.ps1", "blocked_type"),
        ("invoice.exe.pdf", "double_extension"),
        ("photo.js.png", "double_extension"),
        ("photo.heic", "type_not_allowed"),
        ("README", "type_not_allowed"),
        (".pdf", "type_not_allowed"),  # a leading dot is not an extension
    ],
)
def test_names_refused_before_any_byte_is_read(name, code):
    class Unreadable(io.RawIOBase):
        def read(self, size=-1):
            raise AssertionError("the content must not be read for a refused name")

    with pytest.raises(UploadRefused) as caught:
        validate_upload(name, Unreadable())
    assert caught.value.code == code


def test_refusal_message_names_the_file_and_says_why():
    error = refused("invoice.exe.pdf", files.pdf())
    assert error.name == "invoice.exe.pdf"
    assert ".exe" in error.message
    assert str(error).startswith("invoice.exe.pdf: ")


# --- Refused by size ----------------------------------------------------------------------


def test_zero_byte_file_is_refused():
    assert refused("empty.pdf", b"").code == "empty"


def test_over_size_file_is_refused_with_the_limit_in_the_message():
    error = refused("big.txt", b"a" * 1001, max_bytes=1000)
    assert error.code == "too_large"
    assert "1000" in error.message or "1,000" in error.message or "KB" in error.message


def test_file_exactly_at_the_limit_is_accepted():
    with validate_upload("edge.txt", io.BytesIO(b"a" * 1000), max_bytes=1000) as upload:
        assert upload.size == 1000


def test_reading_stops_at_the_limit_even_for_an_endless_stream():
    class Endless(io.RawIOBase):
        consumed = 0

        def read(self, size=-1):
            self.consumed += size
            return b"a" * size

    stream = Endless()
    with pytest.raises(UploadRefused) as caught:
        validate_upload("huge.txt", stream, max_bytes=200_000)
    assert caught.value.code == "too_large"
    assert stream.consumed <= 200_000 + 64 * 1024


def test_declared_size_over_the_limit_is_refused_without_reading():
    class Declared(io.BytesIO):
        size = DEFAULT_MAX_BYTES + 1

        def read(self, *args):
            raise AssertionError("must not read")

    with pytest.raises(UploadRefused) as caught:
        validate_upload("big.pdf", Declared())
    assert caught.value.code == "too_large"


def test_the_limit_comes_from_the_setting(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    assert refused("a.txt", b"12345678901").code == "too_large"
    settings.ATTACHMENT_MAX_BYTES = 11
    with validate_upload("a.txt", io.BytesIO(b"12345678901")) as upload:
        assert upload.size == 11


def test_the_default_limit_is_five_megabytes():
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024


# --- Refused by content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        # Renamed programs and scripts
        ("invoice.pdf", files.EXE, "executable"),
        ("notes.txt", files.ELF, "executable"),
        ("photo.png", files.MACHO, "executable"),
        ("readme.txt", files.SHEBANG, "executable"),
        ("sheet.docx", files.docx({"payload.exe": files.EXE}), "executable"),
        ("sheet.xlsx", files.docx({"word/run.vbs": "MsgBox 1"}), "executable"),
        # HTML/SVG/XML documents and polyglots
        ("notes.txt", b"<!DOCTYPE html><html><script>alert(1)</script>", "markup"),
        ("notes.txt", b"\n  <html><body>hi</body></html>", "markup"),
        ("image.txt", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "markup"),
        ("data.csv", b'<?xml version="1.0"?><a/>', "markup"),
        ("anim.gif", files.GIF + b"<script>alert(1)</script>", "markup"),
        ("photo.jpg", files.jpeg_with_comment(b"<html><script>x</script>"), "markup"),
        ("photo.jpg", files.jpeg_with_comment(b'<svg onload="x">'), "markup"),
        ("shot.png", files.png(b"Comment\x00<SCRIPT>alert(1)</SCRIPT>"), "markup"),
        ("doc.pdf", b"%PDF-1.4\n<html><body><script>alert(1)</script>", "markup"),
        # Active content
        (
            "doc.pdf",
            files.pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "),
            "active_content",
        ),
        ("doc.pdf", files.pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >> "), "active_content"),
        ("letter.docx", files.docm(), "active_content"),
        ("old.doc", files.doc_with_macros(), "active_content"),
        # Bytes that say something else than the extension
        ("invoice.pdf", files.png(), "content_mismatch"),
        ("photo.png", files.JPEG, "content_mismatch"),
        ("budget.xlsx", files.docx(), "content_mismatch"),
        ("letter.docx", files.xlsx(), "content_mismatch"),
        ("letter.docx", files.plain_zip(), "content_mismatch"),
        ("old.doc", files.xls(), "content_mismatch"),
        ("old.doc", files.msi(), "content_mismatch"),
        ("notes.txt", files.pdf(), "content_mismatch"),
        ("notes.txt", "café".encode("latin-1"), "content_mismatch"),
        ("notes.txt", b"text with a \x00 NUL", "content_mismatch"),
        ("notes.txt", "no BOM".encode("utf-16-le"), "content_mismatch"),
        ("photo.png", b"\x89PNG but not really", "content_mismatch"),
        # Damaged or encrypted: nothing can be checked
        ("letter.docx", b"PK\x03\x04 truncated zip", "unreadable"),
        ("letter.docx", files.encrypted_docx(), "unreadable"),
        ("letter.docx", files.docx_with_encrypted_entry(), "unreadable"),
    ],
)
def test_content_refusals(name, data, code):
    assert refused(name, data).code == code


def test_refused_upload_leaves_no_open_temporary_file(monkeypatch):
    import tempfile

    opened = []
    real = tempfile.SpooledTemporaryFile

    def tracking(*args, **kwargs):
        spool = real(*args, **kwargs)
        opened.append(spool)
        return spool

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", tracking)
    refused("invoice.pdf", files.EXE)
    assert opened and all(spool.closed for spool in opened)
