"""Real, minimal files of each accepted type, built byte by byte (or with openpyxl)."""

import io
import struct
import zipfile
import zlib

from openpyxl import Workbook


def png(extra_chunk: bytes = b"") -> bytes:
    """A valid 1×1 grey PNG; `extra_chunk` is placed before IDAT (as a tEXt chunk would be)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    text = chunk(b"tEXt", extra_chunk) if extra_chunk else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + text
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


# The smallest well-known valid baseline JPEG (1×1), as published in many format guides.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300030202020203020202030303030406040404"
    "0404080606050609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f"
    "101010ffc9000b080001000101011100ffcc000600101005ffda0008010100003f00d2cf20ffd9"
)


def jpeg_with_comment(comment: bytes) -> bytes:
    """The JPEG with a COM segment right after SOI (where polyglots hide their markup)."""
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return JPEG[:2] + segment + JPEG[2:]


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def webp() -> bytes:
    """A 1×1 lossless WebP (a VP8L chunk in a RIFF container)."""
    vp8l = bytes.fromhex("2f00000010071011118888fe07")
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + (b"\x00" if len(vp8l) % 2 else b"")
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pdf(extra: bytes = b"") -> bytes:
    """A one-page PDF with a correct cross-reference table; `extra` goes into the catalog."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (4, xref))
    return out.getvalue()


_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
_DOCM_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"


def _content_types(main_part: str, main_type: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/>'
        "</Types>"
    )


def _zip(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(extra_entries: dict[str, bytes | str] | None = None, *, main_type=_DOCX_TYPE) -> bytes:
    """A minimal Word document: content types, package relationship, document part."""
    entries = {
        "[Content_Types].xml": _content_types("word/document.xml", main_type),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>Printer on floor 3 is jammed</w:t></w:r></w:p></w:body>"
            "</w:document>"
        ),
    }
    entries.update(extra_entries or {})
    return _zip(entries)


def docm() -> bytes:
    """A macro-enabled Word document (what a `.docx` rename of a .docm looks like)."""
    return docx({"word/vbaProject.bin": b"\x00" * 64}, main_type=_DOCM_TYPE)


def pptx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _content_types("ppt/presentation.xml", _PPTX_TYPE),
            "ppt/presentation.xml": '<?xml version="1.0"?><p:presentation xmlns:p="x"/>',
        }
    )


def xlsx() -> bytes:
    """A real workbook written by openpyxl."""
    workbook = Workbook()
    workbook.active["A1"] = "Ticket"
    workbook.active["B1"] = 42
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_zip(entries: dict[str, bytes | str] | None = None) -> bytes:
    return _zip(entries or {"readme.txt": "hello"})


def ole(streams: dict[str, bytes]) -> bytes:
    """A compound file (legacy Office container) with the given streams, version 3.

    Sector 0 holds the FAT, sector 1 the directory, then each stream in whole sectors
    (padded to 4096 bytes, so none needs the mini stream).
    """
    sector = 512
    names = list(streams)
    stream_sectors = []
    next_sector = 2
    for name in names:
        data = streams[name].ljust(4096, b"\x00")
        count = -(-len(data) // sector)
        stream_sectors.append((next_sector, count, data.ljust(count * sector, b"\x00")))
        next_sector += count
    fat = [0xFFFFFFFD, 0xFFFFFFFE]  # sector 0: FAT itself; sector 1: directory (one sector)
    for start, count, _data in stream_sectors:
        fat += [start + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (sector // 4 - len(fat))
    header = bytearray(sector)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # directory starts at sector 1
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<IIII", header, 60, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 76, *difat)

    def entry(name, kind, start, size, *, child=0xFFFFFFFF, right=0xFFFFFFFF) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        raw = bytearray(128)
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, 0xFFFFFFFF, right, child)
        struct.pack_into("<II", raw, 116, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1 if names else 0xFFFFFFFF)
    # Siblings chained to the right (a degenerate but valid red-black tree).
    for index, (name, (start, _count, _data)) in enumerate(zip(names, stream_sectors, strict=True)):
        right = index + 2 if index + 1 < len(names) else 0xFFFFFFFF
        directory += entry(name, 2, start, len(streams[name].ljust(4096, b"\x00")), right=right)
    directory = directory.ljust(sector, b"\x00")
    body = b"".join(data for _start, _count, data in stream_sectors)
    return bytes(header) + struct.pack(f"<{sector // 4}I", *fat) + directory + body


def doc() -> bytes:
    return ole({"WordDocument": b"\xec\xa5" + b"Word text", "1Table": b"\x00" * 16})


def xls() -> bytes:
    return ole({"Workbook": b"\x09\x08" + b"BIFF8"})


def ppt() -> bytes:
    return ole({"PowerPoint Document": b"\x00" * 32, "Current User": b"\x00" * 8})


def msi() -> bytes:
    """An OLE container that is no Office document (Windows Installer-like stream names)."""
    return ole({"\u4840\u3f3f\u4577\u446c": b"\x00" * 32, "SummaryInformation": b"\x00"})


def encrypted_docx() -> bytes:
    """A password-protected .docx: Office wraps it in an OLE container."""
    return ole({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64})


def docx_with_encrypted_entry() -> bytes:
    """A .docx whose extra entry is flagged encrypted (zipfile cannot write one, so the
    flag bit is set in the local header and the central directory by hand)."""
    buffer = io.BytesIO(docx())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("word/secret.xml", b"ciphertext")
    data = bytearray(buffer.getvalue())
    name = b"word/secret.xml"
    local = data.rfind(b"PK\x03\x04", 0, data.find(name))
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def doc_with_macros() -> bytes:
    return ole({"WordDocument": b"\xec\xa5", "Macros": b"", "_VBA_PROJECT": b"\x00" * 8})


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24
SHEBANG = b"#!/bin/sh\nrm -rf ~\n"
