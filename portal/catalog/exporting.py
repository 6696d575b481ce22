"""Writing the master-data workbook in the layout `importing` reads (docs/catalog.md).

Exporting then importing the file reports no changes. Every text cell is written as a
string with Excel's "quote prefix", so a name such as `=HYPERLINK(...)` stays text when
the file is opened or edited: no formula injection.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import BinaryIO

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.catalog import approval_sheet, form_sheet
from portal.catalog.models import (
    BusinessUnitGroup,
    Category,
    ClassificationMapping,
    Subcategory,
)
from portal.catalog.spreadsheet import HEADERS

FIELDS = ["group", "category", "subcategory", "team", "spocs", "priority", "active"]
WIDTHS = [28, 32, 32, 28, 40, 16, 8]


def catalog_rows():
    """The export's rows as lists of strings: each group, then its categories and their
    subcategories, alphabetically. Five queries whatever the size of the catalogue."""
    groups = BusinessUnitGroup.objects.prefetch_related("spocs").order_by("name_key")
    categories = defaultdict(list)
    for c in Category.objects.order_by("name_key"):
        categories[c.group_id].append(c)
    subs = defaultdict(list)
    for s in Subcategory.objects.order_by("name_key"):
        subs[s.category_id].append(s)
    mappings = {
        (m.category_id, m.subcategory_id): m
        for m in ClassificationMapping.objects.select_related("team")
    }

    def mapped(category_id, sub_id):
        m = mappings.get((category_id, sub_id))
        return (
            (m.team.name, m.get_default_priority_display() if m.default_priority else "")
            if m
            else ("", "")
        )

    yes = {True: "yes", False: "no"}
    for g in groups:
        spocs = ", ".join(sorted(u.email for u in g.spocs.all()))
        yield [g.name, "", "", "", spocs, "", yes[g.is_active]]
        for c in categories[g.pk]:
            team, priority = mapped(c.pk, None)
            yield [g.name, c.name, "", team, "", priority, yes[c.is_active]]
            for s in subs[c.pk]:
                team, priority = mapped(c.pk, s.pk)
                yield [g.name, c.name, s.name, team, "", priority, yes[s.is_active]]


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    # openpyxl treats a str starting with "=" as a formula: force the string type, and the
    # quote prefix keeps Excel from turning it into one when someone edits the cell.
    cell.data_type = "s"
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        cell.quotePrefix = True
    return cell


def catalog_export(stream: BinaryIO) -> int:
    """Write the catalogue workbook to `stream`; returns the number of data rows."""
    workbook = openpyxl.Workbook(write_only=True)
    headers = [HEADERS[name] for name in FIELDS]
    count = _write_sheet(workbook, "Catalog", WIDTHS, headers, catalog_rows())
    # The request forms, one row per field (form_sheet.py reads it back), and the approval
    # steps, one row per step (approval_sheet.py reads it back).
    _write_sheet(
        workbook, form_sheet.SHEET, form_sheet.WIDTHS, form_sheet.HEADERS.values(),
        form_sheet.form_rows(),
    )  # fmt: skip
    _write_sheet(
        workbook, approval_sheet.SHEET, approval_sheet.WIDTHS, approval_sheet.HEADERS.values(),
        approval_sheet.step_rows(),
    )  # fmt: skip
    workbook.save(stream)
    return count


def _write_sheet(
    workbook, title: str, widths: Iterable[int], headers: Iterable[str], rows: Iterable[list]
) -> int:
    """One sheet: its column widths, a frozen bold header row, then the rows (every text
    as a text cell, an empty value as an empty cell); returns the number of rows."""
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_text_cell(sheet, value) if value else None for value in row])
        count += 1
    return count
