"""`manage.py cleanup_orphan_attachments [--dry-run]`: remove stored files no row refers to.

The attachments app knows no owners, so the setting ATTACHMENT_KEY_OWNERS maps each key
prefix to the dotted path of a function in the owning app that, given a batch of keys,
returns the ones its rows refer to:

    ATTACHMENT_KEY_OWNERS = {"tickets/": "portal.tickets.attachment_keys.known_storage_keys"}

With no owner configured the command refuses to run: "no row knows any key" would delete
everything.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from portal.attachments.cleanup import MINIMUM_ORPHAN_MINUTES, delete_orphans, orphan_age
from portal.attachments.storage import StorageUnavailable, get_storage

# Uploads in flight (stored, row not yet committed) must never be taken for orphans.
MINIMUM_AGE_MINUTES = MINIMUM_ORPHAN_MINUTES


class Command(BaseCommand):
    help = (
        "Delete stored attachment files older than the sweep age (ATTACHMENT_ORPHAN_MINUTES) "
        "that no database row refers to."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="Only files last written at least this long ago "
            "(default: ATTACHMENT_ORPHAN_MINUTES, 15).",
        )

    def handle(self, *args, dry_run: bool, older_than_minutes: int | None, **options):
        if older_than_minutes is None:
            older_than_minutes = int(orphan_age().total_seconds() // 60)
        owners = getattr(settings, "ATTACHMENT_KEY_OWNERS", None) or {}
        if not owners:
            raise CommandError(
                "ATTACHMENT_KEY_OWNERS is not set: without an owner to ask which files are "
                "still referenced, every file would look like an orphan."
            )
        if older_than_minutes < MINIMUM_AGE_MINUTES:
            raise CommandError(
                f"--older-than-minutes must be at least {MINIMUM_AGE_MINUTES}: younger files "
                "may belong to uploads whose rows are not committed yet."
            )
        storage = get_storage()
        verb = "would delete" if dry_run else "deleted"
        failures = 0
        for prefix, dotted_path in owners.items():
            known = import_string(dotted_path)
            try:
                report = delete_orphans(
                    storage,
                    prefix,
                    known=known,
                    older_than=dt.timedelta(minutes=older_than_minutes),
                    dry_run=dry_run,
                )
            except StorageUnavailable as exc:
                raise CommandError(str(exc)) from exc
            for key in report.deleted:
                self.stdout.write(f"{verb} {key}")
            for key in report.failed:
                self.stderr.write(f"could not delete {key}")
            self.stdout.write(
                f"{prefix}: {report.examined} old enough, {len(report.deleted)} {verb}, "
                f"{len(report.failed)} failed"
            )
            failures += len(report.failed)
        if failures:
            # A non-zero exit lets cron/systemd report it; the next run tries again.
            raise CommandError(f"{failures} orphan file(s) could not be deleted")
