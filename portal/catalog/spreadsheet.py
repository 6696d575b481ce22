"""Reading the master-data workbook safely: refuse bad files early, stream the rest.

`read_catalog_sheet(data)` either raises `FileRefused` with a message for the person who
uploaded the file, or returns the data rows as plain strings with their row numbers and
any cell-level problems (formulas where values are expected). The layout itself is
documented in docs/catalog.md.
"""

import io
import zipfile
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# Blank rows are free to skip but not free to read: openpyxl parses each one, about 10 µs
# apiece, so a 5 MB file of a million empty rows would hold a web worker for half a minute.
# Every row read counts toward this limit (room for blank lines between blocks), …
MAX_ROWS_READ = 60_000
# … reading stops after this many blank rows in a row (the data has ended), …
MAX_BLANK_RUN = 1_000
# … and only this many columns are read, whatever width the sheet declares.
MAX_COLUMNS = 50
# A zip bomb is a small file that inflates enormously; a legitimate 50,000-row sheet
# inflates to a few tens of megabytes.
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_CELL_CHARS = 2000

# The portal's own header for each field (what the export writes).
HEADERS = {
    "group": "Business Unit Group",
    "category": "Category",
    "subcategory": "Subcategory",
    "team": "Team",
    "spocs": "SPOC emails",
    "priority": "Default priority",
    "active": "Active",
}
# Every spelling accepted for each field, compared as `_header_key` makes them (letters
# and digits only, casefolded, bracketed notes dropped): "Sub-category", "Sub Category"
# and "SUBCATEGORY" are one key. Sheets kept by hand (the seed's `Ticket-portal.xlsx`:
# S.No | Business Unit Group | Category | Sub Category | SPOC Email) use these.
ALIASES = {
    "group": ("Business Unit Group", "Business Unit", "BU", "BU Group", "Group"),
    "category": ("Category",),
    "subcategory": ("Subcategory", "Sub Category", "Sub-category"),
    "team": ("Team", "Assigned Team"),
    "spocs": ("SPOC emails", "SPOC Email", "SPOC Email(s)", "SPOC", "SPOCs"),
    "priority": ("Default priority", "Priority"),
    "active": ("Active",),
}
REQUIRED = ("group", "category", "subcategory")
# Row numbers people add by hand: read as nothing, said so in the preview.
SERIAL_HEADERS = ("S.No", "S. No.", "Sr No", "Sl No", "No", "#", "Serial", "Serial No")
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
    # The file's own header text per field, for messages ("Sub Category", not ours).
    headers: dict[str, str] = field(default_factory=dict)
    # What each header cell was read as: (letter, header text, field or "" if ignored, why).
    reading: list[tuple[str, str, str, str]] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name, HEADERS[name])


def _header_key(value) -> str:
    text = str(value or "").casefold()
    # "SPOC emails (comma-separated)" is how people annotate the header: allow it. "(s)"
    # and "#" alone are headers too, so brackets go only when something stands before.
    if "(" in text and text.split("(")[0].strip():
        text = text.split("(")[0]
    key = "".join(ch for ch in text if ch.isalnum())
    return key or text.strip()


COLUMNS = {_header_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_SERIAL_KEYS = {_header_key(header) for header in SERIAL_HEADERS}


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
        reader = _StreamingReader(
            io.BytesIO(data), read_only=True, keep_vba=False, data_only=False, keep_links=False
        )
        reader.read()
        workbook = reader.wb
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


class _StreamedSheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet, minus a full parse when the sheet declares no size.

    openpyxl looks for `<dimension>` by parsing elements to their *end*; `<sheetData>`
    ends after the last row, so a sheet without a dimension (streaming writers leave it
    out) is parsed in full while the workbook is opened, before any limit can apply.
    Looking at *start* events stops at the first row.
    """

    def _get_size(self):
        with self._get_source() as source:
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    boundaries = SheetDimension.from_tree(element).boundaries
                    self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                    return
                if element.tag == DATA_TAG:
                    return


class _StreamingReader(ExcelReader):
    """`load_workbook(read_only=True)` with `_StreamedSheet` worksheets (chart sheets skipped)."""

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _StreamedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


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
    _check_declared_size(worksheet)
    rows = _counted_rows(worksheet)
    positions: dict[str, int] = {}
    header_row = 0
    for number, cells in rows:
        if any(c.value not in (None, "") for c in cells):
            header_row = number
            positions = _match_headers(sheet, cells)
            break
        if number >= MAX_BLANK_RUN:
            break
    if not header_row:
        raise FileRefused(
            f"The sheet “{sheet.name}” is empty: it needs a header row and data "
            f"(its first {MAX_BLANK_RUN:,} rows are blank)."
        )

    width = max(positions.values()) + 1
    blank_run = 0
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
                    Problem(sheet.name, number, sheet.header(name), f"The cell {problem}.")
                )
            values[name] = text
        if not any(values.values()) and not any(
            getattr(c, "data_type", None) == "f" for c in cells[:width]
        ):
            # Blank lines between blocks are common and harmless; a long run of them is
            # formatting left below the data (or a file built to be slow), not more data.
            blank_run += 1
            if blank_run == MAX_BLANK_RUN:
                if next(rows, None) is not None:
                    sheet.notices.append(
                        f"Rows {number - MAX_BLANK_RUN + 1:,}–{number:,} are blank, so reading "
                        f"stopped at row {number:,}; anything below it was not read. Move "
                        "data below a gap that long up and import again."
                    )
                break
            continue
        blank_run = 0
        sheet.rows.append(Row(number=number, values=values))
        if len(sheet.rows) > MAX_ROWS:
            raise FileRefused(
                f"The sheet has more than {MAX_ROWS:,} rows; split it and import each part."
            )
    if not sheet.rows:
        stopped = " (reading stops after a run of blank rows)" if blank_run else ""
        raise FileRefused(
            f"The sheet “{sheet.name}” has a header row but no data under it{stopped}."
        )
    return sheet


def _check_declared_size(worksheet) -> None:
    """Refuse at once a sheet whose own `<dimension>` says it is too long to read.

    Files written by streaming writers often declare nothing (then the row count is
    enforced while reading); Excel declares the used range, formatted empty rows included.
    """
    if worksheet.max_row and worksheet.max_row > MAX_ROWS_READ:
        declared = worksheet.calculate_dimension()
        raise FileRefused(
            f"The sheet “{worksheet.title}” declares {worksheet.max_row:,} rows ({declared}); "
            f"an import reads at most {MAX_ROWS_READ:,} rows, blank ones included, and at "
            f"most {MAX_ROWS:,} rows of data. If the rows below your data are empty, delete "
            "them in Excel (select the rows, right-click › Delete), save and upload again; "
            "otherwise split the file."
        )


def _counted_rows(worksheet):
    """(Excel row number, cells) for every row read, refusing the file past MAX_ROWS_READ.

    Read-only mode yields every row from the first, blank ones included, so counting
    gives Excel's row numbers.
    """
    cells_by_row = worksheet.iter_rows(
        max_col=min(worksheet.max_column or MAX_COLUMNS, MAX_COLUMNS)
    )
    for number, cells in enumerate(cells_by_row, start=1):
        if number > MAX_ROWS_READ:
            raise FileRefused(
                f"The sheet “{worksheet.title}” has more than {MAX_ROWS_READ:,} rows, counting "
                f"blank ones (at most {MAX_ROWS:,} rows of data). Delete the blank rows "
                "between the data, or split the file and import each part."
            )
        yield number, cells


def _match_headers(sheet: Sheet, cells) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell.value in (None, ""):
            continue
        letter = get_column_letter(index + 1)
        text = " ".join(str(cell.value).split())[:60]
        key = _header_key(cell.value)
        name = COLUMNS.get(key)
        if name is None and key in _SERIAL_KEYS:
            sheet.reading.append((letter, text, "", "a serial number: ignored"))
        elif name is None:
            sheet.reading.append((letter, text, "", "not part of the layout: ignored"))
            sheet.notices.append(
                f"Column {letter} (“{text}”) is not part of the layout and was ignored."
            )
        elif name in positions:
            raise FileRefused(
                f"The columns {sheet.columns[name]} (“{sheet.headers[name]}”) and {letter} "
                f"(“{text}”) of “{sheet.name}” both name the {HEADERS[name]}; keep one."
            )
        else:
            positions[name] = index
            sheet.columns[name] = letter
            sheet.headers[name] = text
            sheet.reading.append((letter, text, name, HEADERS[name]))
    missing = [n for n in REQUIRED if n not in positions]
    if missing:
        names = [HEADERS[n] for n in missing]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        raise FileRefused(
            f"The sheet “{sheet.name}” is missing the required column"
            f"{'s' if len(names) > 1 else ''} {listed}. The required columns are "
            + ", ".join(HEADERS[n] for n in REQUIRED[:-1])
            + f" and {HEADERS[REQUIRED[-1]]} (other spellings such as Sub Category or "
            "Business Unit work too)."
        )
    return positions
