import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.attachments.names import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    display_name,
    sanitize_filename,
    storage_key,
)

BIDI_AND_INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u061c\u00ad"  # zero-width, marks, BOM
)
RESERVED = re.compile(r"^(con|prn|aux|nul|conin\$|conout\$|(com|lpt)[0-9¹²³])$", re.IGNORECASE)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\fakepath\\invoice.pdf", "invoice.pdf"),
        ("..\\..\\windows\\system32\\x.txt", "x.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("in\u200bvoice\u2066.pdf\u2069", "invoice.pdf"),
        ("line\r\nbreak\x00.txt", "linebreak.txt"),
        ("tab\there.txt", "tabhere.txt"),
        ("...hidden", "hidden"),
        (".htaccess", "htaccess"),
        ("trailing.exe. . ", "trailing.exe"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Nul.tar.gz", "_Nul.tar.gz"),
        ("COM1.pdf", "_COM1.pdf"),
        ("lpt9", "_lpt9"),
        ("LPT¹.txt", "_LPT¹.txt"),
        ("CON .txt", "_CON .txt"),
        ("console.txt", "console.txt"),
        ('what?<is>:this|"*.pdf', "what__is__this___.pdf"),
        ("many    spaces\u00a0here.txt", "many spaces here.txt"),
        ("", "file"),
        ("...", "file"),
        ("\u202e\u200b", "file"),
        ("/", "file"),
        ("Cafe\u0301.pdf", "Café.pdf"),  # NFD in, NFC out
    ],
)
def test_sanitize_filename_cases(raw, expected):
    assert sanitize_filename(raw) == expected


def test_over_long_name_is_shortened_keeping_the_extension():
    result = sanitize_filename("a" * 300 + ".pdf")
    assert result.endswith(".pdf")
    assert len(result) <= MAX_NAME_CHARS
    assert result.startswith("aaaa")


def test_over_long_multibyte_name_fits_in_bytes_too():
    # 100 CJK characters are 300 UTF-8 bytes: too long for one file-system path component.
    result = sanitize_filename("報" * 150 + ".docx")
    assert result.endswith(".docx")
    assert len(result.encode("utf-8")) <= MAX_NAME_BYTES


def test_a_long_extension_is_not_mistaken_for_one_to_keep():
    result = sanitize_filename("x." + "y" * 300)
    assert len(result) <= MAX_NAME_CHARS


# Random text mixed with the pieces that matter: separators, dots, invisible characters,
# device names and extensions.
NAMES = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=20),
        st.sampled_from(list("/\\.: \x00\r\n" + BIDI_AND_INVISIBLE)),
        st.sampled_from(["CON", "com1", "LPT3", "aux", "LPT¹", ".exe", ".pdf", "\u0301"]),
    ),
    max_size=40,
).map("".join)


@hypothesis_settings(max_examples=400, deadline=None)
@given(NAMES)
def test_sanitized_names_are_always_safe(raw):
    result = sanitize_filename(raw)
    assert result
    assert "/" not in result and "\\" not in result
    assert not any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for char in result)
    assert not any(char in BIDI_AND_INVISIBLE for char in result)
    assert not RESERVED.match(result.split(".", 1)[0].rstrip(" "))
    assert not result.startswith((".", " ")) and not result.endswith((".", " "))
    assert len(result) <= MAX_NAME_CHARS
    assert len(result.encode("utf-8")) <= MAX_NAME_BYTES
    assert unicodedata.is_normalized("NFC", result)


@hypothesis_settings(max_examples=300, deadline=None)
@given(NAMES)
def test_sanitizing_twice_changes_nothing(raw):
    once = sanitize_filename(raw)
    assert sanitize_filename(once) == once


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=1, max_size=60, alphabet=st.characters(codec="ascii", categories=["L", "N"]))
)
def test_plain_names_keep_their_extension(stem):
    assert sanitize_filename(f"{stem}.pdf").lower().endswith(".pdf")


def test_display_name_keeps_what_the_user_typed_but_not_invisible_tricks():
    assert display_name("Q3 report (final).pdf") == "Q3 report (final).pdf"
    assert display_name("dir/../x <b>.pdf") == "dir/../x <b>.pdf"  # templates escape it
    assert display_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert display_name("a\x00b\r\nc.txt") == "abc.txt"
    assert len(display_name("x" * 1000)) == 255
    assert display_name("\u200b") == "file"


def test_storage_key_has_prefix_timestamp_random_and_safe_name():
    key = storage_key(["tickets", "42"], "../Invoice March.pdf")
    assert re.fullmatch(r"tickets/42/\d{8}T\d{6}Z-[0-9a-f]{16}-Invoice March\.pdf", key), key


def test_storage_keys_for_the_same_name_differ():
    keys = {storage_key(["tickets", "1"], "a.pdf") for _ in range(50)}
    assert len(keys) == 50


@pytest.mark.parametrize("bad", ["", "..", ".", "a/b", "a\\b", " 1"])
def test_storage_key_refuses_unsafe_prefix_parts(bad):
    with pytest.raises(ValueError, match="Unsafe storage key prefix"):
        storage_key(["tickets", bad], "a.pdf")
