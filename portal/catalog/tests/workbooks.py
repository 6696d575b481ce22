"""Building test workbooks in memory."""

import io
import zipfile

import openpyxl

HEADER = [
    "Business Unit Group",
    "Category",
    "Subcategory",
    "Team",
    "SPOC emails",
    "Default priority",
    "Active",
]


def xlsx(rows, *, header=HEADER, title="Catalog") -> bytes:
    """A workbook with one sheet: `header` then `rows` (a value starting with = is a formula)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_macros(data: bytes) -> bytes:
    """The same workbook with a VBA project inside, as Excel saves a .xlsm."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00fake vba project")
    return buffer.getvalue()


def encrypted() -> bytes:
    """The shape Excel gives a password-protected workbook: an OLE compound file holding
    an `EncryptedPackage` stream (names are UTF-16 in the OLE directory)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptedPackage".encode("utf-16-le") + b"\x00" * 96
    return header + directory + b"\x00" * 2048


def with_entities(data: bytes) -> bytes:
    """The same workbook with a "billion laughs" entity declaration in its sheet XML."""
    bomb = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                if text.startswith("<?xml"):
                    head, _, rest = text.partition("?>")
                    text = head + "?>" + bomb + rest
                else:
                    text = bomb + text
                content = text.replace("<v>", "<v>&lol2;", 1).encode()
            archive.writestr(item, content)
    return out.getvalue()


def streamed(rows, *, header=HEADER, title="Catalog") -> bytes:
    """Like `xlsx`, written by openpyxl's write-only (streaming) mode: the sheet declares no
    dimension, as in a file built by a script. `[""]` rows are the blank rows such scripts
    write (an empty text cell each)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The seed's own workbook shape (`Ticket-portal.xlsx`): a serial number, one row per
# subcategory, the group and category left blank where they repeat, no Team column.
SEED_HEADER = ["S.No", "Business Unit Group", "Category", "Sub Category", "SPOC Email"]
SEED_ROWS = [
    [1, "Information Technology", "Hardware", "Laptop", "spoc@example.com"],
    [2, None, None, "Desktop", None],
    [3, None, "Network", "VPN", None],
    [4, None, None, "Wi-Fi", None],
    [5, "Human Resources", "Payroll", "Payslip", None],
    [6, None, None, "Tax form", None],
]


def seed_workbook(rows=SEED_ROWS, *, header=SEED_HEADER) -> bytes:
    """A workbook kept the way the seed's `Ticket-portal.xlsx` is."""
    return xlsx(rows, header=header, title="Sheet1")


def with_broken_tail(data: bytes) -> bytes:
    """The same workbook with its first sheet's XML broken after the last row: a reader
    that parses the sheet to its end fails; one that stops earlier never notices."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b"<unclosed></sheetData>")
            archive.writestr(item, content)
    return out.getvalue()
