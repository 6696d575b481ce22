"""File names: a safe name for storage and downloads, a clean name for display, storage keys.

A name typed on someone else's machine is hostile input. It can carry a path
(`../../etc/passwd`, `C:\\fakepath\\x.pdf`), invisible characters that make
`invoice[U+202E]fdp.exe` display as `invoiceexe.pdf`, a Windows device name that cannot be
opened (`CON.txt`), or hundreds of characters that overflow a file system's 255-byte limit.
"""

import datetime as dt
import secrets
import unicodedata

MAX_NAME_CHARS = 100
# ext4 and most file systems allow 255 *bytes* per path component; the stored file name
# is `{timestamp}-{random}-{safe_name}` (34 bytes of prefix), so the name keeps under 200.
MAX_NAME_BYTES = 200
MAX_DISPLAY_CHARS = 255
FALLBACK_NAME = "file"
# An "extension" longer than this is kept as part of the stem when shortening.
_MAX_EXTENSION_CHARS = 16

# Characters Windows refuses in names; `/` and `\` are handled as path separators first.
_WINDOWS_FORBIDDEN = set('<>:"|?*')
# Device names Windows reserves with or without an extension (`con.txt` opens the console).
# The superscript digits are reserved too: Windows treats them as digits.
_RESERVED_STEMS = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{digit}" for device in ("COM", "LPT") for digit in "0123456789¹²³"}
)


def _drop_invisible(text: str) -> str:
    """Remove control, format (bidi, zero-width, BOM), separator and surrogate characters.

    Unicode category Cf covers the bidi embeddings/overrides U+202A-U+202E and isolates
    U+2066-U+2069, LRM/RLM, the zero-width space/joiners, U+2060 and U+FEFF; Cc is C0, DEL
    and C1 (CR/LF among them); Zl/Zp are the line/paragraph separators; Cs are lone
    surrogates, which cannot be encoded as UTF-8 at all.
    """
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
            continue
        # Any other space (no-break, ideographic...) becomes a plain space.
        kept.append(" " if category == "Zs" else char)
    return "".join(kept)


def _collapse_spaces(text: str) -> str:
    return " ".join(part for part in text.split(" ") if part)


def split_extension(name: str) -> tuple[str, str]:
    """`("report.final", ".pdf")` for `report.final.pdf`; `(name, "")` when there is none."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension or len(extension) > _MAX_EXTENSION_CHARS:
        return name, ""
    return stem, "." + extension


def _is_reserved(name: str) -> bool:
    # Windows compares the part before the first dot, ignoring trailing spaces.
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _RESERVED_STEMS


def _fits(text: str, max_chars: int) -> bool:
    return len(text) <= max_chars and len(text.encode("utf-8")) <= MAX_NAME_BYTES


def _shorten(name: str, max_chars: int) -> str:
    """Cut the stem so the whole name fits in characters and UTF-8 bytes; keep the extension."""
    if _fits(name, max_chars):
        return name
    stem, extension = split_extension(name)
    if len(extension) >= max_chars // 2:
        stem, extension = name, ""
    while stem and not _fits(stem + extension, max_chars):
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    return stem + extension if stem else extension.lstrip(".")


def sanitize_filename(name: str, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """A file name safe to store, to put in a storage key and to offer as a download name.

    Never empty, never a path, never a Windows device name, at most `max_chars`
    characters (and MAX_NAME_BYTES bytes), NFC-normalised, without invisible characters;
    the extension survives shortening. Applying it twice changes nothing.
    """
    text = _sanitize_once(str(name), max_chars)
    # Removing a character can leave a new pair for NFC to compose (or a new trailing
    # dot): repeat until nothing changes, so the result is a fixed point.
    for _ in range(4):
        again = _sanitize_once(text, max_chars)
        if again == text:
            break
        text = again
    return text


def _sanitize_once(text: str, max_chars: int) -> str:
    text = unicodedata.normalize("NFC", text)
    # Both separators: browsers on Windows send `C:\\fakepath\\x.pdf`, old IE the full path.
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = unicodedata.normalize("NFC", _drop_invisible(text))
    text = "".join("_" if char in _WINDOWS_FORBIDDEN else char for char in text)
    text = _collapse_spaces(text)
    # Leading dots hide files (and `..` is a parent); trailing dots and spaces are dropped
    # by Windows, so `invoice.exe.` would be saved as `invoice.exe`.
    text = text.lstrip(". ").rstrip(". ")
    text = _shorten(text, max_chars - 1)  # room for the `_` a reserved name gets
    if _is_reserved(text):
        text = "_" + text
    return text or FALLBACK_NAME


def display_name(name: str) -> str:
    """The name as the user gave it, for display: only what would lie or break is removed.

    Paths and punctuation stay (templates escape them); control characters go (PostgreSQL
    refuses NUL in text) and so do bidi and zero-width characters, which would make
    `invoice[U+202E]fdp.exe` read as `invoiceexe.pdf` on the ticket page.
    """
    text = _collapse_spaces(_drop_invisible(unicodedata.normalize("NFC", str(name)))).strip()
    return text[:MAX_DISPLAY_CHARS] or FALLBACK_NAME


def storage_key(prefix_parts: list[str] | tuple[str, ...], safe_name: str) -> str:
    """`{prefix}/{timestamp}-{random}-{safe_name}`, e.g. `tickets/42/20261125T223000Z-…-a.pdf`.

    The caller passes its own prefix (`["tickets", "42"]`); the UTC timestamp sorts keys by
    upload time and the 64 random bits make two uploads of one name in one second (or a
    guess at someone else's key) collide with negligible probability.
    """
    parts = [str(part) for part in prefix_parts]
    for part in parts:
        if not part or "/" in part or "\\" in part or part in {".", ".."} or part != part.strip():
            raise ValueError(f"Unsafe storage key prefix part: {part!r}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{secrets.token_hex(8)}-{sanitize_filename(safe_name)}"
    return "/".join([*parts, name])
