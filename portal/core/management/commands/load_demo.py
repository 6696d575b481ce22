from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.core.demo import DEMO_PASSWORD, DEMO_USERS, load_demo


class Command(BaseCommand):
    help = "Load the demo organisation and accounts (idempotent; refuses to run unless DEBUG)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Load even with DEBUG off (never in production)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo data is for development only: DEBUG is off. Use --force to insist."
            )
        counts = load_demo()
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {summary}."))
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for email, _name, _admin in DEMO_USERS:
            self.stdout.write(f"  {email}")
