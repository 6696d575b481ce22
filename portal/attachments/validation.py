"""Upload validation: name rules, size limit, and content that must match the extension.

`validate_upload(name, fileobj)` reads the upload once, in chunks, into a spooled temporary
file (memory up to 1 MB, then disk; never more than the limit plus one chunk), computing
size and sha256 on the way, then sniffs the bytes. It returns a `ValidatedUpload` ready
to store, or raises `UploadRefused` with a machine code and a plain message for the user.
The lists below are documented in docs/attachments.md: change both together.
"""

import hashlib
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.template.defaultfilters import filesizeformat

from portal.attachments import sniff
from portal.attachments.names import display_name, sanitize_filename, split_extension

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024

# Extension → (sniffed kind, MIME type recorded and sent on download).
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "pdf": (sniff.PDF, "application/pdf"),
    "png": (sniff.PNG, "image/png"),
    "jpg": (sniff.JPEG, "image/jpeg"),
    "jpeg": (sniff.JPEG, "image/jpeg"),
    "gif": (sniff.GIF, "image/gif"),
    "webp": (sniff.WEBP, "image/webp"),
    "docx": (
        sniff.DOCX,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (sniff.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        sniff.PPTX,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "doc": (sniff.DOC, "application/msword"),
    "xls": (sniff.XLS, "application/vnd.ms-excel"),
    "ppt": (sniff.PPT, "application/vnd.ms-powerpoint"),
    "txt": (sniff.TEXT, "text/plain"),
    "log": (sniff.TEXT, "text/plain"),
    "csv": (sniff.TEXT, "text/csv"),
}

# Refused wherever they appear in a name, last or not (`invoice.exe.pdf` too). Grouped so
# docs/attachments.md can list them; BLOCKED_EXTENSIONS is the union.
PROGRAM_EXTENSIONS = frozenset(
    # Windows programs, libraries, installers, shortcuts and system files
    "exe dll com scr pif cpl sys drv ocx msi msp mst msc msix appx appxbundle bat cmd"
    " lnk url scf reg inf ins isp hta chm gadget application appref-ms library-ms"
    " settingcontent-ms diagcab website xbap"
    # other platforms' programs and packages
    " elf bin run so dylib app dmg pkg deb rpm apk ipa jar class war ear wasm".split()
)
SCRIPT_EXTENSIONS = frozenset(
    # Windows Script Host, PowerShell, shells, interpreters, server-side pages
    "js jse mjs cjs vbs vbe wsf wsh wsc ws ps1 ps1xml ps2 psc1 psd1 psm1 sh bash zsh ksh"
    " csh fish command py pyc pyw pl pm rb php php3 php4 php5 phtml phar asp aspx ascx"
    " ashx jsp jspx cgi lua tcl".split()
)
MARKUP_EXTENSIONS = frozenset(
    # web pages, vector images that can carry script, XML and stylesheets, Flash
    "html htm xhtml xht shtml mht mhtml svg svgz xml xsl xslt xsd rss atom swf".split()
)
MACRO_OFFICE_EXTENSIONS = frozenset(
    "docm dotm xlsm xltm xlam xlsb pptm potm ppam ppsm sldm".split()
)
ARCHIVE_EXTENSIONS = frozenset(
    # archives and disk images: they can carry any of the above, out of the sniffer's sight
    "zip zipx rar 7z tar gz tgz bz2 tbz2 xz txz lz lzma zst cab arj ace iso img vhd vhdx"
    " vmdk".split()
)
BLOCKED_EXTENSIONS: frozenset[str] = (
    PROGRAM_EXTENSIONS
    | SCRIPT_EXTENSIONS
    | MARKUP_EXTENSIONS
    | MACRO_OFFICE_EXTENSIONS
    | ARCHIVE_EXTENSIONS
)
# Entries refused inside an Office document's ZIP container. Not `.bin`: Excel and Word
# store printer settings and embedded OLE objects as `.bin` parts (macros, also `.bin`,
# are caught by name: vbaProject.bin).
ARCHIVE_ENTRY_REFUSED = (PROGRAM_EXTENSIONS | SCRIPT_EXTENSIONS) - {"bin"}

ACCEPTED_SUMMARY = (
    "PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint (docx/xlsx/pptx or doc/xls/ppt) "
    "and plain text (txt, csv, log)"
)


class UploadRefused(Exception):
    """One file was refused. `code` is for programs, `message` for the person uploading.

    `str(exc)` is "<name>: <message>", ready for a per-file form error.
    """

    def __init__(self, code: str, message: str, *, name: str):
        super().__init__(f"{name}: {message}")
        self.code = code
        self.message = message
        self.name = name


class TypedFile(File):
    """A Django File that knows its Content-Type (the S3 backend sends `content_type`)."""

    content_type: str


@dataclass
class ValidatedUpload:
    """An accepted file, read once and held in a temporary file until it is stored.

    `file` is a Django File positioned at 0 whose `content_type` the S3 backend sends as
    the object's Content-Type. Close it (or use `with`) when done.
    """

    original_name: str  # for display; see names.display_name
    safe_name: str  # for the storage key and the download name
    content_type: str  # MIME type from the sniffed content, e.g. "image/png"
    charset: str  # "utf-8"/"utf-16" for text, "" otherwise
    size: int
    sha256: str
    file: TypedFile = field(repr=False)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "ValidatedUpload":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def max_upload_bytes() -> int:
    """ATTACHMENT_MAX_BYTES, read at call time (5 MB when the setting is absent)."""
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def validate_upload(
    name: str, fileobj: IO[bytes] | Any, *, max_bytes: int | None = None
) -> ValidatedUpload:
    """Check one uploaded file; return a ValidatedUpload or raise UploadRefused.

    `fileobj` is a Django UploadedFile (its `chunks()` are used) or any binary file object.
    Name rules are checked before a byte is read; the size limit stops reading at once.
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    shown = display_name(name)
    safe_name = sanitize_filename(name)
    extension = _check_name(safe_name, shown)

    declared = getattr(fileobj, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _too_large(shown, limit)

    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    try:
        size, digest = _copy_limited(fileobj, spool, limit, shown)
        if size == 0:
            raise UploadRefused("empty", "The file is empty.", name=shown)
        sniffed = sniff.sniff(spool, executable_names=ARCHIVE_ENTRY_REFUSED)
        kind, mime = ALLOWED_TYPES[extension]
        _check_content(sniffed, kind, extension, shown)
    except BaseException:
        spool.close()
        raise

    wrapped = TypedFile(spool, name=safe_name)
    wrapped.content_type = f"{mime}; charset={sniffed.charset}" if sniffed.charset else mime
    return ValidatedUpload(
        original_name=shown,
        safe_name=safe_name,
        content_type=mime,
        charset=sniffed.charset,
        size=size,
        sha256=digest,
        file=wrapped,
    )


def _check_name(safe_name: str, shown: str) -> str:
    """The (lower-case) extension, once the name passes the allow- and block-lists."""
    stem, dotted = split_extension(safe_name)
    extension = dotted[1:].lower()
    if extension in BLOCKED_EXTENSIONS:
        raise UploadRefused(
            "blocked_type",
            f"Files ending in .{extension} are not accepted (programs, scripts, web pages, "
            "XML/SVG and archives are refused).",
            name=shown,
        )
    if extension not in ALLOWED_TYPES:
        raise UploadRefused(
            "type_not_allowed",
            f"This type of file is not accepted. Accepted: {ACCEPTED_SUMMARY}.",
            name=shown,
        )
    # `invoice.exe.pdf`: Windows hides the last extension, so people read the inner one.
    for inner in stem.lower().split(".")[1:]:
        if inner.strip() in BLOCKED_EXTENSIONS:
            raise UploadRefused(
                "double_extension",
                f"The name contains a hidden .{inner.strip()} extension; rename the file.",
                name=shown,
            )
    return extension


def _copy_limited(source: Any, spool: IO[bytes], limit: int, shown: str) -> tuple[int, str]:
    """Copy into `spool` while counting and hashing; refuse as soon as the limit is passed."""
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(source):
        size += len(chunk)
        if size > limit:
            raise _too_large(shown, limit)
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return size, digest.hexdigest()


def _chunks(source: Any):
    if hasattr(source, "chunks"):  # Django UploadedFile: rewinds and streams from disk
        yield from source.chunks(_CHUNK)
        return
    while chunk := source.read(_CHUNK):
        yield chunk


def _too_large(shown: str, limit: int) -> UploadRefused:
    return UploadRefused(
        "too_large", f"The file is larger than {filesizeformat(limit)}.", name=shown
    )


_OFFICE_KINDS = frozenset({sniff.DOCX, sniff.XLSX, sniff.PPTX, sniff.DOC, sniff.XLS, sniff.PPT})


def _check_content(sniffed: sniff.Sniffed, kind: str, extension: str, shown: str) -> None:
    if sniffed.kind == sniff.EXECUTABLE:
        raise UploadRefused(
            "executable", "The file is a program or script, which is not accepted.", name=shown
        )
    if sniffed.kind == sniff.MARKUP:
        raise UploadRefused(
            "markup",
            "The file contains web-page, SVG or XML code, which is not accepted.",
            name=shown,
        )
    if sniffed.kind == sniff.ACTIVE:
        raise UploadRefused(
            "active_content",
            "The file contains macros or scripts (Office macros, PDF JavaScript), which are "
            "not accepted. Save a copy without them.",
            name=shown,
        )
    if sniffed.kind == sniff.UNREADABLE and kind in _OFFICE_KINDS:
        raise UploadRefused(
            "unreadable",
            "The file is damaged or password-protected, so it cannot be checked.",
            name=shown,
        )
    if sniffed.kind != kind:
        raise UploadRefused(
            "content_mismatch",
            f"The file's content does not match its .{extension} extension.",
            name=shown,
        )
