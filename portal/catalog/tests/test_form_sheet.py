"""Request forms travel with master data: the workbook's "Form fields" sheet, exported and
imported with an exact round trip, checked with the admin screen's rules, all or nothing."""

import io
from decimal import Decimal

import openpyxl
import pytest

from portal.catalog import form_services
from portal.catalog.exporting import catalog_export
from portal.catalog.importing import ImportConflict, catalog_import_apply, catalog_import_plan
from portal.catalog.models import Category, FormField
from portal.catalog.tests.workbooks import HEADER
from portal.testing.request_forms import every_type_form

pytestmark = pytest.mark.django_db

FIELD_HEADER = [
    "Business Unit Group", "Category", "Subcategory", "Code", "Label", "Type", "Required",
    "Order", "Options", "Minimum", "Maximum", "Help text", "Active",
]  # fmt: skip


def _export() -> bytes:
    buffer = io.BytesIO()
    catalog_export(buffer)
    return buffer.getvalue()


def _workbook(catalog_rows, field_rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Catalog"
    sheet.append(HEADER)
    for row in catalog_rows:
        sheet.append(row)
    fields = workbook.create_sheet("Form fields")
    fields.append(FIELD_HEADER)
    for row in field_rows:
        fields.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _state():
    return sorted(
        FormField.objects.values_list(
            "key", "label", "field_type", "required", "position", "options", "min_value",
            "max_value", "help_text", "is_active", "category__name", "subcategory__name",
        )
    )  # fmt: skip


@pytest.fixture
def fields(org):
    made = every_type_form(category=org.hardware)
    form_services.form_field_create(
        subcategory=org.laptop, key="screen", label="Screen =size", field_type="number",
        min_value=Decimal("10.5"), help_text="In inches; e.g. 14", position=3,
    )  # fmt: skip
    form_services.form_field_retire(field=made["details"])
    return made


def test_the_export_has_one_row_per_field_with_every_setting(org, fields):
    workbook = openpyxl.load_workbook(io.BytesIO(_export()))
    rows = list(workbook["Form fields"].iter_rows(values_only=True))
    assert list(rows[0]) == FIELD_HEADER
    by_code = {row[3]: row for row in rows[1:]}
    assert len(by_code) == 9
    assert by_code["amount"][6:11] == ("no", "2", None, "0", "5000")
    assert by_code["cost_centre"][8] == "cc100=CC-100 IT; cc200=CC-200 HR"
    assert by_code["details"][12] == "no"  # retired fields travel too
    assert by_code["screen"][:3] == ("Group X", "Hardware", "Laptop")
    assert by_code["screen"][4] == "Screen =size"  # text, never a formula


def test_exporting_then_importing_changes_nothing(org, fields):
    data = _export()
    before = _state()
    plan = catalog_import_plan(data)
    assert plan.errors == []
    assert not plan.changed
    catalog_import_apply(data)
    assert _state() == before


def test_an_edited_sheet_updates_creates_and_retires(org, fields):
    workbook = openpyxl.load_workbook(io.BytesIO(_export()))
    sheet = workbook["Form fields"]
    for row in sheet.iter_rows(min_row=2):
        if row[3].value == "asset_tag":
            row[4].value = "Asset tag (sticker)"
            row[12].value = "no"
        if row[3].value == "details":
            row[12].value = "yes"
    sheet.append(
        ["Group X", "Hardware", "Printer", "toner", "Toner", "choice", "yes", "1",
         "black=Black; colour=Colour", None, None, None, None]
    )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = catalog_import_plan(buffer.getvalue())
    assert plan.errors == []
    assert plan.counts["form_fields_created"] == 1
    assert plan.counts["form_fields_updated"] == 2
    catalog_import_apply(buffer.getvalue())
    asset_tag = FormField.objects.get(key="asset_tag")
    assert (asset_tag.label, asset_tag.is_active) == ("Asset tag (sticker)", False)
    assert FormField.objects.get(key="details").is_active
    toner = FormField.objects.get(key="toner")
    assert (toner.subcategory, toner.required, toner.options[1]) == (
        org.printer, True, {"code": "colour", "label": "Colour"},
    )  # fmt: skip


def test_a_form_on_a_category_the_same_file_creates(org, personas):
    data = _workbook(
        [["Group X", "Docking", "", "Team A", "", "", ""]],
        [["Group X", "Docking", "", "dock_model", "Dock model", "text", "yes", "", "", "", "",
          "", ""]],
    )  # fmt: skip
    assert catalog_import_plan(data).errors == []
    catalog_import_apply(data)
    field = FormField.objects.get(key="dock_model")
    assert field.category == Category.objects.get(name="Docking")
    assert (field.required, field.is_active, field.position) == (True, True, 0)


BAD_ROWS = [
    (["Group X", "Hardware", "", "Bad Code", "L", "text"], "Code"),
    (["Group X", "Hardware", "", "x", "L", "colour"], "Type"),
    (["Group X", "Hardware", "", "x", "L", "choice", "", "", ""], "Options"),
    (["Group X", "Hardware", "", "x", "L", "number", "", "", "", "9", "1"], "Maximum"),
    (["Group X", "Hardware", "", "x", "L", "number", "", "", "", "ten"], "Minimum"),
    (["Group X", "Hardware", "", "x", "L", "text", "maybe"], "Required"),
    (["Group X", "Hardware", "", "x", "L", "text", "", "-1"], "Order"),
    (["Group X", "Nowhere", "", "x", "L", "text"], "Category"),
    (["Group X", "Hardware", "", "asset_tag", "L", "number"], "Type"),  # type never changes
    (["Group X", "Hardware", "", "x", "", "text"], "Label"),
    (["Group X", "Hardware", "", "x", "=1+1", "text"], "Label"),  # a formula
]


@pytest.mark.parametrize(("row", "column"), BAD_ROWS)
def test_a_bad_row_is_an_error_naming_sheet_row_and_column(org, fields, row, column):
    data = _workbook([["Group X", "Hardware", "", "Team A", "", "", ""]], [row])
    before = _state()
    plan = catalog_import_plan(data)
    assert [(e.sheet, e.row, e.column) for e in plan.errors] == [("Form fields", 2, column)]
    catalog_import_apply(data)
    assert _state() == before


def test_a_code_twice_on_one_form_is_an_error(org):
    row = ["Group X", "Hardware", "", "x", "L", "text"]
    catalogue = [["Group X", "Hardware", "", "Team A", "", "", ""]]
    plan = catalog_import_plan(_workbook(catalogue, [row, row]))
    assert [(e.row, e.column) for e in plan.errors] == [(3, "Code")]


def test_a_clash_with_an_inherited_code_writes_nothing(org, fields):
    # asset_tag is on Hardware, so Laptop may not define it too: the services refuse it
    # while the import is written, and the whole import is undone.
    data = _workbook(
        [["Group X", "Hardware", "Dock", "Team A", "", "", ""]],
        [["Group X", "Hardware", "Laptop", "asset_tag", "Again", "text"]],
    )
    before = _state()
    with pytest.raises(ImportConflict, match="already used on this form. Nothing was saved"):
        catalog_import_apply(data)
    assert _state() == before
    assert not org.hardware.subcategories.filter(name="Dock").exists()


def test_a_workbook_without_the_sheet_leaves_forms_alone(org, fields):
    from portal.catalog.tests.workbooks import xlsx

    before = _state()
    catalog_import_apply(xlsx([["Group X", "Hardware", "Dock", "Team A", "", "", ""]]))
    assert _state() == before


@pytest.mark.django_db(transaction=True)  # the import's own transaction commits
def test_an_import_of_many_rows_writes_the_cache_versions_twice_and_readers_see_it(
    org, monkeypatch
):
    from portal.catalog.request_forms import form_for
    from portal.lib.cache_versions import _versions

    before = [f.key for f in form_for(org.hardware.pk).fields]  # cached now
    writes = []
    store = _versions()
    write = store.set_many

    def counted(data, *args, **kwargs):
        writes.append(sorted(data))
        return write(data, *args, **kwargs)

    monkeypatch.setattr(store, "set_many", counted)
    keys = [f"part_{row}" for row in range(8)]
    data = _workbook(
        [["Group X", "Hardware", "", "Team A", "", "", ""]],
        [["Group X", "Hardware", "", key, key, "text", "", 50 + row, "", "", "", "", ""]
         for row, key in enumerate(keys)],
    )  # fmt: skip
    catalog_import_apply(data)
    # Eight rows, eight saves: the versions are written at the first one and at the commit.
    assert writes == [["version:masters", "version:people", "version:roles"]] * 2
    assert [f.key for f in form_for(org.hardware.pk).fields] == before + keys
