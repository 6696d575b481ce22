"""Reading the master-data workbook safely: refuse bad files early, stream the rest.

`read_catalog_sheet(data)` either raises `FileRefused` with a message for the person who
uploaded the file, or returns the data rows as plain strings with their row numbers and
any cell-level problems (formulas where values are expected). The layout itself is
documented in docs/catalog.md.
"""

import io
import zipfile
from dataclasses import dataclass, field

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.utils import get_column_letter

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# A zip bomb is a small file that inflates enormously; a legitimate 50,000-row sheet
# inflates to a few tens of megabytes.
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_CELL_CHARS = 2000

# Header (matched case- and whitespace-insensitively) → field name.
COLUMNS = {
    "business unit group": "group",
    "category": "category",
    "subcategory": "subcategory",
    "team": "team",
    "spoc emails": "spocs",
    "default priority": "priority",
    "active": "active",
}
HEADERS = {
    "group": "Business Unit Group",
    "category": "Category",
    "subcategory": "Subcategory",
    "team": "Team",
    "spocs": "SPOC emails",
    "priority": "Default priority",
    "active": "Active",
}
REQUIRED = ("group", "category", "subcategory", "team")
PREFERRED_SHEET = "catalog"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


class FileRefused(Exception):
    """The whole file is unusable; `str(exc)` says why and what to do."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell or row, reported as sheet, row, column, message."""

    sheet: str
    row: int
    column: str
    message: str


@dataclass
class Row:
    number: int
    values: dict[str, str]


@dataclass
class Sheet:
    name: str
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field → column letter


def _header_key(value) -> str:
    text = " ".join(str(value or "").split()).casefold()
    # "SPOC emails (comma-separated)" is how people annotate the header: allow it.
    return text.split("(")[0].strip()


def _check_container(data: bytes) -> None:
    if not data:
        raise FileRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        size = len(data) / 1024 / 1024
        raise FileRefused(
            f"The file is {size:.1f} MB; the limit is 10 MB. Split it and import each part."
        )
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise FileRefused(
                "The workbook is password-protected. Remove the password in Excel "
                "(File › Info › Protect Workbook) and upload it again."
            )
        raise FileRefused(
            "This is an old Excel 97–2003 (.xls) file. Save it as “Excel Workbook (.xlsx)”."
        )
    if not data.startswith(_ZIP_MAGIC):
        head = data[:2048]
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
        if text and ("," in text or ";" in text or "\t" in text) and "\x00" not in text:
            raise FileRefused(
                "This looks like a CSV or text file renamed to .xlsx. Open it in Excel and "
                "save it as “Excel Workbook (.xlsx)”."
            )
        raise FileRefused("This is not an Excel workbook (.xlsx).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileRefused("The file is damaged: it is not a readable .xlsx workbook.") from exc
    if "xl/workbook.xml" not in names:
        raise FileRefused(
            "This is a zip file but not an Excel workbook (.xlsx); Word and OpenDocument "
            "files are not accepted."
        )
    if "xl/vbaProject.bin" in names or any(
        n.lower().endswith(".bin") and "vba" in n.lower() for n in names
    ):
        raise FileRefused(
            "The workbook contains macros. Save it as “Excel Workbook (.xlsx)”, without "
            "macros, and upload it again."
        )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused("The workbook unpacks to far more data than a 50,000-row sheet can hold.")


def _cell_text(cell) -> tuple[str, str | None]:
    """(text, problem). Numbers come back without a trailing `.0`; booleans as yes/no."""
    value = cell.value
    if value is None:
        return "", None
    if getattr(cell, "data_type", None) == "f":
        return "", f"has a formula ({str(value)[:40]}); type the value itself"
    if isinstance(value, bool):
        return ("yes" if value else "no"), None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split()) if isinstance(value, str) else str(value)
    if len(text) > MAX_CELL_CHARS:
        return "", f"is longer than {MAX_CELL_CHARS} characters"
    return text, None


def read_catalog_sheet(data: bytes) -> Sheet:
    """The catalogue rows of a workbook, streamed in read-only mode (defusedxml parses it)."""
    _check_container(data)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many types for broken files
        raise _unreadable(exc) from exc
    try:
        return _read(workbook)
    except FileRefused:
        raise
    except Exception as exc:  # read-only sheets are parsed while rows are read
        raise _unreadable(exc) from exc
    finally:
        workbook.close()


def _unreadable(exc: BaseException) -> FileRefused:
    """Name the XML-attack case (defusedxml refused it); everything else is "damaged"."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return FileRefused(
                "The workbook contains XML entity or DTD declarations, which are refused "
                "for safety. Open it in Excel and save it again as .xlsx."
            )
        cause = cause.__cause__ or cause.__context__
    return FileRefused("The workbook could not be read; it may be damaged.")


def _read(workbook) -> Sheet:
    if not workbook.worksheets:
        raise FileRefused("The workbook has no sheets.")
    worksheet = next(
        (ws for ws in workbook.worksheets if ws.title.strip().casefold() == PREFERRED_SHEET),
        workbook.worksheets[0],
    )
    sheet = Sheet(name=worksheet.title)
    # Read-only mode yields every row from the first, blank ones included, so counting
    # gives Excel's row numbers.
    rows = enumerate(worksheet.iter_rows(), start=1)
    positions: dict[str, int] = {}
    header_row = 0
    for number, cells in rows:
        if any(c.value not in (None, "") for c in cells):
            header_row = number
            positions = _match_headers(sheet, cells)
            break
    if not header_row:
        raise FileRefused(f"The sheet “{sheet.name}” is empty: it needs a header row and data.")

    width = max(positions.values()) + 1
    for number, cells in rows:
        values: dict[str, str] = {}
        for name, index in positions.items():
            if index >= len(cells):
                values[name] = ""
                continue
            cell = cells[index]
            text, problem = _cell_text(cell)
            if problem:
                sheet.problems.append(
                    Problem(sheet.name, number, HEADERS[name], f"The cell {problem}.")
                )
            values[name] = text
        if not any(values.values()) and not any(
            getattr(c, "data_type", None) == "f" for c in cells[:width]
        ):
            continue  # blank lines between blocks are common and harmless
        sheet.rows.append(Row(number=number, values=values))
        if len(sheet.rows) > MAX_ROWS:
            raise FileRefused(
                f"The sheet has more than {MAX_ROWS:,} rows; split it and import each part."
            )
    if not sheet.rows:
        raise FileRefused(f"The sheet “{sheet.name}” has a header row but no data under it.")
    return sheet


def _match_headers(sheet: Sheet, cells) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell.value in (None, ""):
            continue
        letter = get_column_letter(index + 1)
        name = COLUMNS.get(_header_key(cell.value))
        if name is None:
            sheet.notices.append(
                f"Column {letter} (“{str(cell.value)[:60]}”) is not part of the layout "
                "and was ignored."
            )
        elif name in positions:
            raise FileRefused(
                f"The column “{HEADERS[name]}” appears twice in the header row of “{sheet.name}”."
            )
        else:
            positions[name] = index
            sheet.columns[name] = letter
    missing = [HEADERS[n] for n in REQUIRED if n not in positions]
    if missing:
        raise FileRefused(
            f"The sheet “{sheet.name}” is missing the required column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}. The header row must "
            "name: " + ", ".join(HEADERS.values()) + "."
        )
    return positions
