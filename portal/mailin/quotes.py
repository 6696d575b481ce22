"""Cutting the quoted history off a reply, so a comment holds what the person wrote.

Mail clients put the earlier conversation under the new text, each in its own way:
Gmail and Apple Mail write "On <date>, <name> wrote:" (wrapped over two lines at times)
and quote with ">"; Outlook writes a "From: … Sent: … To: … Subject: …" block, often under
a line of underscores or "-----Original Message-----"; other languages have their own
"wrote" lines. The reply is everything above the first such marker. A reply whose text is
all below a marker (someone who typed inside the quote) is kept whole rather than lost.
"""

import re

_WROTE = re.compile(
    r"^\s*(?:>\s*)?("
    r"On\b.{0,300}\bwrote:"  # Gmail, Apple Mail, Thunderbird
    r"|Le\b.{0,300}\ba écrit\s?:"  # French
    r"|Am\b.{0,300}\bschrieb\b.{0,200}:"  # German
    r"|El\b.{0,300}\bescribió:"  # Spanish
    r"|Op\b.{0,300}\bschreef\b.{0,200}:"  # Dutch
    r")\s*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}"
    r"|_{10,}"
    r"|-{2,}\s*Forwarded message\s*-{2,}"
    r")\s*$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^\s*\**(From|Von|De|Van)\**\s*:\s*\S", re.IGNORECASE)
_HEADER_FOLLOWERS = re.compile(
    r"^\s*\**(Sent|Date|Gesendet|Envoyé|Verzonden|To|Subject|Cc)\**\s*:", re.IGNORECASE
)
_SIGNATURE = "-- "


def strip_quoted(text: str) -> str:
    """The new part of a reply (see the module docstring); never empty if `text` is not."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _first_marker(lines)
    kept = lines[:cut]
    # A trailing block of ">" lines (with blank lines between) is quoted history too.
    end = len(kept)
    while end and (not kept[end - 1].strip() or kept[end - 1].lstrip().startswith(">")):
        end -= 1
    kept = kept[:end]
    result = "\n".join(kept).strip()
    return result or text.strip()


def _first_marker(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if line == _SIGNATURE or line.rstrip() == "--":
            return index
        if _SEPARATORS.match(line):
            return index
        if _WROTE.match(line):
            return index
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else ""
        if line.strip().lower().startswith(("on ", "le ", "am ")) and _WROTE.match(joined):
            return index
        if _HEADER_LINE.match(line) and _followed_by_headers(lines, index):
            return index
    return len(lines)


def _followed_by_headers(lines: list[str], index: int) -> bool:
    """Outlook's block: "From:" and, within the next four lines, "Sent:" or "Date:"."""
    return any(_HEADER_FOLLOWERS.match(line) for line in lines[index + 1 : index + 5])
