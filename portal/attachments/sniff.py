"""What a file *is*, from its bytes: a small magic-bytes sniffer for the types we accept.

It recognises exactly the formats the upload rules need to tell apart: the accepted ones
(PDF, PNG, JPEG, GIF, WebP, OOXML docx/xlsx/pptx, legacy OLE doc/xls/ppt, plain text) and
the dangerous ones a renamed file may really be (Windows/Linux/macOS executables, shebang
scripts, WebAssembly, HTML/SVG/XML, plain ZIP archives). Anything else is "unknown",
which the validator refuses: the sniffer never has to be complete, only never wrong in
the accepting direction.
"""

import codecs
import zipfile
from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 4096
_CHUNK = 64 * 1024  # a multiple of 128, which the OLE directory scan relies on

# Kinds (the `kind` of a Sniffed result).
PDF, PNG, JPEG, GIF, WEBP = "pdf", "png", "jpeg", "gif", "webp"
DOCX, XLSX, PPTX = "docx", "xlsx", "pptx"
DOC, XLS, PPT = "doc", "xls", "ppt"
TEXT = "text"
EXECUTABLE = "executable"  # a program or a script
MARKUP = "markup"  # HTML, SVG, XML
ACTIVE = "active"  # Office macros/ActiveX, PDF JavaScript/launch actions
ZIP = "zip"  # a ZIP that is not an Office document
UNREADABLE = "unreadable"  # damaged, encrypted, or a container we cannot inspect
UNKNOWN = "unknown"

RASTER_KINDS = frozenset({PNG, JPEG, GIF, WEBP})
# The only media types ever shown inline: browsers decode them as images and nothing else.
INLINE_SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE/DOS (.exe, .dll, .scr, .sys)
    b"\x7fELF",  # Linux/Unix
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit, big-endian
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit, big-endian
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit, little-endian
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (and Java .class)
    b"\x00asm",  # WebAssembly
    b"#!",  # shebang script (sh, Python, Perl...)
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

# Markup that makes a browser (or an XML parser) treat bytes as a document with active
# content. Looked for in the head of binary files: a GIF or PDF whose first kilobytes
# hold `<script>` is a polyglot built to be rendered as HTML somewhere.
_MARKUP_IN_BINARY = (
    b"<script",
    b"<html",
    b"<svg",
    b"<!doctype",
    b"<iframe",
    b"<body",
    b"<object",
    b"<embed",
    b"<?xml-stylesheet",
)
# The WHATWG MIME-sniffing "HTML" patterns (a tag followed by a space or `>`), plus SVG,
# XML and PHP: a text file *starting* with one of these is a document, not text. Markup
# further down (a web server log quoting `<html>`) is fine: text is always served as
# text/plain, nosniff, as a download.
_MARKUP_TEXT_TAGS = (
    "<!doctype html",
    "<html",
    "<head",
    "<script",
    "<iframe",
    "<h1",
    "<div",
    "<font",
    "<table",
    "<a",
    "<style",
    "<title",
    "<b",
    "<body",
    "<br",
    "<p",
    "<svg",
    "<?xml",
    "<?php",
    "<!--",
)
# PDF features that run code or programs when the document is opened.
_PDF_ACTIVE = (b"/JavaScript", b"/Launch")

_OOXML_MAIN = {
    DOCX: ("word/document.xml", "wordprocessingml.document.main+xml"),
    XLSX: ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    PPTX: ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}
_OOXML_MAX_ENTRIES = 10_000
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024

_OLE_MAIN_STREAMS = {
    "WordDocument": DOC,
    "Workbook": XLS,
    "Book": XLS,  # Excel 5/95
    "PowerPoint Document": PPT,
}
_OLE_MACRO_STREAMS = {"_VBA_PROJECT", "_VBA_PROJECT_CUR", "VBA", "Macros"}


@dataclass(frozen=True)
class Sniffed:
    """The verdict: a kind, and for text the encoding it decoded with."""

    kind: str
    detail: str = ""
    charset: str = ""


def sniff(fileobj: IO[bytes], *, executable_names: frozenset[str] = frozenset()) -> Sniffed:
    """Identify a seekable binary file from its content. Leaves the position at 0.

    `executable_names` are extensions (without the dot) that must not appear as entries
    inside an Office document's ZIP container.
    """
    try:
        fileobj.seek(0)
        head = fileobj.read(HEAD_BYTES)
        return _sniff(fileobj, head, executable_names)
    finally:
        fileobj.seek(0)


def _sniff(fileobj: IO[bytes], head: bytes, executable_names: frozenset[str]) -> Sniffed:
    if head.startswith(_EXECUTABLE_MAGIC):
        return Sniffed(EXECUTABLE, "executable header")
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith((b"GIF87a", b"GIF89a")):
        kind = GIF
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = WEBP
    elif head.startswith(_ZIP_MAGIC):
        return _sniff_zip(fileobj, executable_names)
    elif head.startswith(_OLE_MAGIC):
        return _sniff_ole(fileobj)
    else:
        return _sniff_text(fileobj, head)

    lowered = head.lower()
    for needle in _MARKUP_IN_BINARY:
        if needle in lowered:
            return Sniffed(MARKUP, f"{kind} containing {needle.decode()}")
    if kind == PDF:
        found = _find_any(fileobj, _PDF_ACTIVE)
        if found:
            return Sniffed(ACTIVE, f"pdf with {found.decode()}")
    return Sniffed(kind)


def _find_any(fileobj: IO[bytes], needles: tuple[bytes, ...]) -> bytes | None:
    """The first needle found anywhere in the file, reading in chunks with an overlap."""
    overlap = max(len(needle) for needle in needles) - 1
    fileobj.seek(0)
    tail = b""
    while chunk := fileobj.read(_CHUNK):
        window = tail + chunk
        for needle in needles:
            if needle in window:
                return needle
        tail = window[-overlap:]
    return None


def _sniff_zip(fileobj: IO[bytes], executable_names: frozenset[str]) -> Sniffed:
    """An Office Open XML document (docx/xlsx/pptx), or a plain ZIP (refused by the rules).

    Only the central directory and [Content_Types].xml (capped) are read: nothing is
    decompressed beyond that, so a ZIP bomb costs us nothing.
    """
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            entries = archive.infolist()
            if len(entries) > _OOXML_MAX_ENTRIES:
                return Sniffed(UNREADABLE, "too many entries")
            names = {entry.filename for entry in entries}
            for entry in entries:
                lowered = entry.filename.lower()
                if entry.flag_bits & 0x1:
                    return Sniffed(UNREADABLE, "encrypted entry")
                extension = lowered.rsplit(".", 1)[-1] if "." in lowered else ""
                if extension in executable_names:
                    return Sniffed(EXECUTABLE, f"archive entry {entry.filename}")
                # VBA macros (a renamed .docm) and ActiveX controls run code when opened.
                if "vbaproject" in lowered or "activex" in lowered:
                    return Sniffed(ACTIVE, f"archive entry {entry.filename}")
            if "[Content_Types].xml" not in names:
                return Sniffed(ZIP, "zip archive")
            with archive.open("[Content_Types].xml") as member:
                content_types = member.read(_CONTENT_TYPES_MAX_BYTES).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        return Sniffed(UNREADABLE, "damaged zip")
    except RuntimeError:  # zipfile's "encrypted, password required"
        return Sniffed(UNREADABLE, "encrypted")
    if "macroenabled" in content_types.lower():
        return Sniffed(ACTIVE, "macro-enabled content type")
    for kind, (main_part, main_type) in _OOXML_MAIN.items():
        if main_part in names and main_type in content_types:
            return Sniffed(kind)
    return Sniffed(ZIP, "zip archive (not an Office document)")


def _sniff_ole(fileobj: IO[bytes]) -> Sniffed:
    """A legacy Office document (doc/xls/ppt) told apart by its main stream's name.

    OLE compound files also hold Windows Installer packages (.msi) and Outlook messages,
    so the magic alone proves nothing. Rather than follow the FAT chains, we read every
    128-byte-aligned slot as a directory entry (directory sectors are 128-byte aligned)
    and collect names whose recorded length and type are consistent: content bytes that
    happen to spell a name are not enough, the length field and type must match too.
    """
    names = set()
    fileobj.seek(512)  # the header is one 512-byte block; sectors follow
    while chunk := fileobj.read(_CHUNK):
        for offset in range(0, len(chunk) - 127, 128):
            entry = chunk[offset : offset + 128]
            name_length = int.from_bytes(entry[64:66], "little")
            object_type = entry[66]
            if object_type not in (1, 2, 5) or not 2 <= name_length <= 64 or name_length % 2:
                continue
            try:
                name = entry[: name_length - 2].decode("utf-16-le")
            except UnicodeDecodeError:
                continue
            if entry[name_length - 2 : name_length] == b"\x00\x00":
                names.add(name)
    if names & _OLE_MACRO_STREAMS:
        return Sniffed(ACTIVE, "VBA project")
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return Sniffed(UNREADABLE, "encrypted Office document")
    kinds = {kind for stream, kind in _OLE_MAIN_STREAMS.items() if stream in names}
    if len(kinds) == 1:
        return Sniffed(kinds.pop())
    return Sniffed(UNKNOWN, "OLE container that is not a Word, Excel or PowerPoint file")


def _text_encoding(head: bytes) -> tuple[str, str]:
    """(codec, charset label) from the byte-order mark; UTF-8 without one."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16"  # the codec reads the BOM and picks the byte order
    return "utf-8", "utf-8"


def _sniff_text(fileobj: IO[bytes], head: bytes) -> Sniffed:
    """Text: decodes strictly as UTF-8 (BOM optional) or BOM-marked UTF-16, with no NUL."""
    codec, charset = _text_encoding(head)
    decoder = codecs.getincrementaldecoder(codec)("strict")
    fileobj.seek(0)
    start = ""
    try:
        while chunk := fileobj.read(_CHUNK):
            text = decoder.decode(chunk)
            if "\x00" in text:
                return Sniffed(UNKNOWN, "binary data (NUL)")
            if len(start) < 1024:
                start += text[:1024]
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return Sniffed(UNKNOWN, "not UTF-8 or UTF-16 text")
    if "\x00" in text:
        return Sniffed(UNKNOWN, "binary data (NUL)")
    opening = start.lstrip(" \t\r\n\x0c").lower()
    for tag in _MARKUP_TEXT_TAGS:
        rest = opening[len(tag) : len(tag) + 1]
        if opening.startswith(tag) and (rest in {" ", ">", "\t", "\n", "\r"} or tag[1] in "!?"):
            return Sniffed(MARKUP, f"text starting with {tag}")
    return Sniffed(TEXT, charset=charset)
