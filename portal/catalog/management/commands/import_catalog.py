"""`manage.py import_catalog FILE.xlsx [--dry-run]`: the /masters/import preview and apply."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.catalog.importing import (
    FileRefused,
    ImportConflict,
    catalog_import_apply,
    catalog_import_plan,
)
from portal.catalog.spreadsheet import MAX_BYTES


class Command(BaseCommand):
    help = "Import master data from an .xlsx workbook (layout: docs/catalog.md). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the .xlsx workbook.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; write nothing."
        )

    def handle(self, *args, file: str, dry_run: bool = False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{file}: over 10 MB, the limit; split it and import each part.")
        data = path.read_bytes()
        try:
            plan = catalog_import_plan(data) if dry_run else catalog_import_apply(data)
        except (FileRefused, ImportConflict) as exc:
            raise CommandError(f"{file}: {exc}") from exc

        counts = plan.row_counts
        self.stdout.write(
            f"Sheet “{plan.sheet}”: {counts['create']} rows to create, {counts['update']} to "
            f"update, {counts['unchanged']} unchanged, {len(plan.errors)} errors."
        )
        for letter, header, _name, meaning in plan.columns:
            self.stdout.write(f"  column {letter} “{header}”: {meaning}")
        for notice in plan.notices:
            self.stdout.write(f"  notice: {notice}")
        if plan.errors:
            for e in plan.errors:
                self.stderr.write(f"  {e.sheet}, row {e.row}, column {e.column}: {e.message}")
            raise CommandError("Nothing was imported: fix the errors above and run again.")
        for label, count in plan.count_lines:
            self.stdout.write(f"  {label}: {count}")
        for heading, gaps in plan.gaps_by_kind:
            self.stdout.write(self.style.WARNING(f"{heading} ({len(gaps)}):"))
            for gap in gaps:
                self.stdout.write(f"  gap: {gap.subject}: {gap.reason} (row {gap.row})")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif plan.changed:
            self.stdout.write(self.style.SUCCESS("Imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing to change."))
