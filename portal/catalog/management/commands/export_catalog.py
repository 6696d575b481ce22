"""`manage.py export_catalog FILE.xlsx`: the workbook /masters/export serves."""

from django.core.management.base import BaseCommand, CommandError

from portal.catalog.exporting import catalog_export


class Command(BaseCommand):
    help = "Export master data to an .xlsx workbook in the import layout (docs/catalog.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the .xlsx workbook.")

    def handle(self, *args, file: str, **options):
        if not file.lower().endswith(".xlsx"):
            raise CommandError("The file name must end in .xlsx.")
        try:
            with open(file, "wb") as stream:
                rows = catalog_export(stream)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows} rows to {file}."))
