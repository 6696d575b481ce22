"""Benchmark: import a 20,000-row master-data workbook (issue 3: "in seconds, not minutes").

    DATABASE_URL=postgres://… .venv/bin/python bench/catalog_import.py [--rows 20000] [--runs 5]

Runs against a throwaway test database (`test_<name>`, created and dropped here; SQLite
uses memory when DATABASE_URL is unset). Each run empties the catalogue, then times:
  - preview: reading the workbook and planning every change (what /masters/import shows);
  - first import: plan again + write everything in one transaction (all rows created);
  - re-import: the same file again (all rows unchanged, nothing written);
  - export: writing the whole catalogue back to a workbook.
Prints the median and the spread of the runs.

    .venv/bin/python bench/catalog_import.py --blank-rows [--runs 5]

times the refusal of the hostile file of issue 15 instead: a header and 1,048,575 blank
rows (an empty text cell each, 5.4 MB, written by openpyxl's streaming writer, so the
sheet declares no dimension), through the preview (what /masters/import runs) and
`manage.py import_catalog --dry-run`. Nothing touches the database before the refusal.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def build_workbook(rows: int, spoc_emails: list[str]) -> bytes:
    """10 groups × N categories × 50 subcategories, each routed to one of 50 teams."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Catalog")
    sheet.append(
        [
            "Business Unit Group",
            "Category",
            "Subcategory",
            "Team",
            "SPOC emails",
            "Default priority",
            "Active",
        ]
    )
    groups, subs_per_category = 10, 50
    categories_per_group = max(1, rows // (groups * subs_per_category))
    n = 0
    for g in range(groups):
        for c in range(categories_per_group):
            for s in range(subs_per_category):
                if n == rows:
                    break
                spoc = spoc_emails[g] if c == 0 and s == 0 else ""
                priority = ("Low", "Medium", "High", "")[n % 4]
                sheet.append(
                    [
                        f"Group {g:02}",
                        f"Category {g:02}-{c:03}",
                        f"Item {s:02}",
                        f"Team {n % 50:02}",
                        spoc,
                        priority,
                        "yes",
                    ]
                )
                n += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_blank_workbook(rows: int = 1_048_575) -> bytes:
    """The issue-15 file: a header, then `rows` rows of one empty text cell."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Catalog")
    sheet.append(["Business Unit Group", "Category", "Subcategory", "Team"])
    for _ in range(rows):
        sheet.append([""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bench_blank_rows(runs: int) -> None:
    import tempfile

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from portal.catalog.importing import catalog_import_plan
    from portal.catalog.spreadsheet import FileRefused

    print("building the workbook (about 20 s)…", flush=True)
    data = build_blank_workbook()
    print(f"1,048,575 blank rows, workbook {len(data) / 1024 / 1024:.2f} MB, {runs} runs")
    results: dict[str, list[float]] = {"preview refused": [], "import_catalog refused": []}
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as file:
        file.write(data)
        file.flush()
        for _ in range(runs):
            start = time.perf_counter()
            try:
                catalog_import_plan(data)
                raise SystemExit("the file was accepted")
            except FileRefused as exc:
                message = str(exc)
            results["preview refused"].append(time.perf_counter() - start)
            start = time.perf_counter()
            try:
                call_command("import_catalog", file.name, "--dry-run")
                raise SystemExit("the command accepted the file")
            except CommandError:
                pass
            results["import_catalog refused"].append(time.perf_counter() - start)
    print(f"message: {message}")
    print_table(results)


def print_table(results: dict[str, list[float]]) -> None:
    print("| step | median (s) | min (s) | max (s) |")
    print("|---|---|---|---|")
    for step, values in results.items():
        print(
            f"| {step} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--blank-rows", action="store_true", help="time the refusal of 1,048,575 blank rows"
    )
    args = parser.parse_args()

    import django

    django.setup()
    if args.blank_rows:
        bench_blank_rows(args.runs)
        return
    from django.db import connection

    from portal.accounts.models import User
    from portal.catalog.exporting import catalog_export
    from portal.catalog.importing import catalog_import_apply, catalog_import_plan
    from portal.catalog.models import (
        BusinessUnitGroup,
        Category,
        ClassificationMapping,
        Subcategory,
        Team,
    )

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        emails = [f"spoc{g}@example.com" for g in range(10)]
        for email in emails:
            User.objects.create_user(email, None, full_name=email)
        data = build_workbook(args.rows, emails)
        print(
            f"{args.rows} rows, workbook {len(data) / 1024 / 1024:.2f} MB, "
            f"database {connection.vendor}, {args.runs} runs"
        )

        results: dict[str, list[float]] = {
            "preview": [],
            "first import": [],
            "re-import": [],
            "export": [],
        }
        for _ in range(args.runs):
            ClassificationMapping.objects.all().delete()
            Subcategory.objects.all().delete()
            Category.objects.all().delete()
            BusinessUnitGroup.objects.all().delete()
            Team.objects.all().delete()

            seconds, plan = timed(lambda: catalog_import_plan(data))
            assert plan.row_counts["create"] == args.rows, plan.row_counts
            results["preview"].append(seconds)
            seconds, plan = timed(lambda: catalog_import_apply(data))
            assert not plan.errors and Subcategory.objects.count() == args.rows
            results["first import"].append(seconds)
            seconds, plan = timed(lambda: catalog_import_apply(data))
            assert plan.row_counts["unchanged"] == args.rows, plan.row_counts
            results["re-import"].append(seconds)
            seconds, _ = timed(lambda: catalog_export(io.BytesIO()))
            results["export"].append(seconds)

        print_table(results)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
