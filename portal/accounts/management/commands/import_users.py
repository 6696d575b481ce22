from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.accounts.importing import import_users_csv


class Command(BaseCommand):
    help = (
        "Import users from a CSV file with columns: email, full name, password hash, active. "
        "Bcrypt hashes from the original system keep working and are upgraded at first sign-in. "
        "Nothing is written if any row has an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        result = import_users_csv(text)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} error(s); no users were imported.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported users: {result.created} created, {result.updated} updated."
            )
        )
